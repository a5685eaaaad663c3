package io.pgwarden.keeper;

import static io.pgwarden.keeper.KeeperDriver.peer;
import static io.pgwarden.keeper.KeeperDriver.ts;
import static io.pgwarden.model.NodeState.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgwarden.model.PeerInfo;
import io.pgwarden.model.TermSeq;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Writes without the controller, both sides: the primary asking, the peers promising. */
class FailsafeTest {
  static final String QUORUM = "ANY 1 (pgwarden_3)";

  /**
   * A primary with lease, peers 2 (promotable), 3 (priority 0, in the synchronous quorum), 4 (priority
   * 0, async), 5 (being dropped). The controller then fails: the first failsafe round starts.
   */
  static KeeperDriver primaryLosingItsController() {
    KeeperDriver d = new KeeperDriver();
    d.peers = List.of(peer(2, SECONDARY, 50), peer(3, SECONDARY, 0), peer(4, SECONDARY, 0), peer(5, DROPPED, 50));
    d.syncNames = QUORUM;
    d.start(PRIMARY, ts(3, 5)).facts(PgFacts.stopped());
    d.answer(PRIMARY, ts(3, 5));
    d.facts(PgFacts.primary(QUORUM));
    d.advance(500);
    assertEquals("long-poll", d.lastReport().reason());
    d.failLastReport();
    return d;
  }

  static Action.AskPeers round(KeeperDriver d) {
    return d.lastOf(Action.AskPeers.class);
  }

  @Test
  void theRoundAsksEveryPromotablePeerAndEveryQuorumMember() {
    KeeperDriver d = primaryLosingItsController();
    Action.AskPeers ask = d.now(Action.AskPeers.class).get(0);
    assertEquals(1, ask.round());
    assertEquals(3, ask.term());
    assertEquals(List.of(2, 3), ask.peers().stream().map(PeerInfo::nodeId).toList());
  }

  @Test
  void allConfirmationsRenewTheLeaseFromWhenTheRoundStarted() {
    KeeperDriver d = primaryLosingItsController();
    long asked = d.mono;
    d.advance(100);
    d.on(new Event.PeerConfirmation(2, 1, 3, true, "ok"));
    assertTrue(d.state.lease().fromMono() < asked, "one of two is not enough");
    d.on(new Event.PeerConfirmation(3, 1, 3, true, "ok"));
    assertEquals(asked, d.state.lease().fromMono());
    assertEquals(d.t.leaseMs(), d.state.lease().durationMs());
    // no further confirmations: the renewed lease ends L after the round started, not before
    assertEquals(List.of(), d.in(d.advance(asked + d.t.leaseMs() - d.mono - 1), Action.FencePostgres.class));
    assertEquals(1, d.in(d.advance(1), Action.FencePostgres.class).size());
  }

  @Test
  void oneMissingPeerMeansNoRenewalAndAFenceAtExpiry() {
    KeeperDriver d = primaryLosingItsController();
    long leaseEnd = d.state.lease().fromMono() + d.t.leaseMs();
    long rounds = 0;
    while (d.mono < leaseEnd - 1) {
      d.advance(1);
      for (Action.AskPeers a : d.now(Action.AskPeers.class)) {
        rounds++;
        d.on(new Event.PeerConfirmation(2, a.round(), 3, true, "ok")); // 3 never answers
      }
      assertEquals(List.of(), d.now(Action.FencePostgres.class));
    }
    assertTrue(rounds >= 2, "rounds repeat every report interval: " + rounds);
    assertEquals(1, d.in(d.advance(1), Action.FencePostgres.class).size());
  }

  static Stream<Arguments> notCounted() {
    return Stream.of(
        Arguments.of(new Event.PeerConfirmation(3, 1, 3, false, "candidate"), "a refusal"),
        Arguments.of(new Event.PeerConfirmation(3, 1, 2, true, "ok"), "another (older) term"),
        Arguments.of(new Event.PeerConfirmation(3, 0, 3, true, "ok"), "another round"),
        Arguments.of(new Event.PeerConfirmation(4, 1, 3, true, "ok"), "a peer that was not required"));
  }

  @ParameterizedTest(name = "{1} does not count")
  @MethodSource("notCounted")
  void onlyMatchingConfirmationsCount(Event.PeerConfirmation c, String what) {
    KeeperDriver d = primaryLosingItsController();
    long before = d.state.lease().fromMono();
    d.on(new Event.PeerConfirmation(2, 1, 3, true, "ok"));
    d.on(c);
    assertEquals(before, d.state.lease().fromMono());
  }

  @Test
  void confirmationsAfterLDoNotCount() {
    KeeperDriver d = primaryLosingItsController();
    Action.AskPeers first = d.now(Action.AskPeers.class).get(0);
    long before = d.state.lease().fromMono();
    d.mono += d.t.leaseMs(); // answers that took L: no tick in between, so round 1 is still the latest
    d.wall += d.t.leaseMs();
    d.on(new Event.PeerConfirmation(2, first.round(), 3, true, "ok"));
    d.on(new Event.PeerConfirmation(3, first.round(), 3, true, "ok"));
    assertTrue(d.state.lease() == null || d.state.lease().fromMono() == before);
  }

  @Test
  void aNewerTermFromAPeerGrowsTheKnownTermAndStopsRenewals() {
    KeeperDriver d = primaryLosingItsController();
    d.on(new Event.PeerConfirmation(2, 1, 5, false, "knows the newer term 5"));
    assertEquals(5, d.state.node().knownTerm());
    assertEquals(5, d.now(Action.PersistState.class).get(0).state().knownTerm());
    d.advance(500);
    // the lease was granted in term 3: a round in term 5 would let a deposed primary renew itself in its
    // successor's term (found by the simulator, docs/simulation.md)
    assertEquals(1, round(d).round(), "no round after a newer term is known");
  }

  @Test
  void withNobodyToAskTheLeaseIsRenewedByTheRoundAlone() {
    KeeperDriver d = new KeeperDriver();
    d.peers = List.of(peer(4, SECONDARY, 0));
    d.start(WAIT_PRIMARY, ts(3, 5)).facts(PgFacts.stopped());
    d.answer(WAIT_PRIMARY, ts(3, 5));
    d.facts(PgFacts.primary(""));
    d.advance(500);
    d.failLastReport();
    assertEquals(List.of(), d.now(Action.AskPeers.class));
    assertEquals(d.mono, d.state.lease().fromMono());
  }

  @Test
  void aPrimaryToldToStepDownNeverRenewsItself() {
    KeeperDriver d = new KeeperDriver();
    d.peers = List.of(peer(2, SECONDARY, 50));
    d.start(PRIMARY, ts(3, 5)).facts(PgFacts.stopped());
    d.answer(PRIMARY, ts(3, 5));
    d.facts(PgFacts.primary(""));
    d.term = 4;
    d.answer(DRAINING, ts(4, 1)); // its stop is under way when the controller disappears
    d.advance(500);
    d.failLastReport();
    List<Action> a = d.advance(3_000);
    assertEquals(List.of(), d.in(a, Action.AskPeers.class));
    assertFalse(d.in(a, Action.FencePostgres.class).isEmpty(), "the stop hangs: the lease ends, the fence acts");
  }

  @Test
  void aReachableControllerMeansNoRound() {
    KeeperDriver d = LeaseTest.runningPrimary();
    for (int i = 0; i < 30; i++) {
      d.advance(100);
      if (d.lastReport().sentMono() == d.mono) d.answer(PRIMARY, ts(3, 5));
    }
    assertEquals(null, round(d));
  }

  @Test
  void aSilentControllerStartsARoundWithoutAFailure() {
    KeeperDriver d = LeaseTest.runningPrimary();
    // the long-poll goes unanswered: after its wait plus one interval the controller counts as lost
    List<Action> a = d.advance(1_000);
    assertEquals(List.of(), d.in(a, Action.AskPeers.class));
    assertEquals(1, d.in(d.advance(100), Action.AskPeers.class).size());
  }

  // ------------------------------------------------------------------ the peer's side

  static KeeperDriver peerIn(io.pgwarden.model.NodeState state, TermSeq executed) {
    KeeperDriver d = new KeeperDriver();
    d.start(state, executed).facts(PgFacts.standby());
    return d;
  }

  static Action.AnswerPeer ask(KeeperDriver d, long term) {
    return d.in(d.on(new Event.PeerPromiseRequest(42, 2, term)), Action.AnswerPeer.class).get(0);
  }

  @Test
  void aStandbyConfirmsAndPromises() {
    KeeperDriver d = peerIn(SECONDARY, ts(3, 5));
    d.advance(d.cfg.promiseMs());
    assertEquals(null, d.state.promise() == null || !d.state.promise().activeAt(d.mono, d.wall) ? null : "active");
    Action.AnswerPeer a = ask(d, 3);
    assertTrue(a.ok());
    assertEquals(42, a.requestId());
    assertEquals(3, a.term());
    assertEquals(d.mono + d.cfg.promiseMs(), d.state.promise().untilMono());
    assertEquals(d.wall + d.cfg.promiseMs(), d.state.promise().untilWall());
  }

  @Test
  void thePromiseOutlastsThePrimarysLeaseEvenOnAFastClock() {
    KeeperConfig c = KeeperConfig.of(1, io.pgwarden.model.Timing.DEFAULT);
    assertTrue(c.promiseMs() > c.timing().leaseMs());
    assertEquals(c.timing().leaseCertainlyExpiredAfterMs(), c.promiseMs());
  }

  static Stream<Arguments> candidates() {
    return Stream.of(PREPARE_PROMOTION, STOP_REPLICATION, FAST_FORWARD, WAIT_PRIMARY, PRIMARY, SINGLE, APPLY_SETTINGS)
        .map(Arguments::of);
  }

  @ParameterizedTest(name = "a node in {0} refuses")
  @MethodSource("candidates")
  void aCandidateRefuses(io.pgwarden.model.NodeState state) {
    KeeperDriver d = peerIn(state, ts(3, 5));
    Action.AnswerPeer a = ask(d, 3);
    assertFalse(a.ok());
    assertTrue(a.reason().contains("candidate"), a.reason());
  }

  @Test
  void aStandbyAboutToBeCandidateRefuses() {
    KeeperDriver d = peerIn(SECONDARY, ts(3, 5));
    d.term = 4;
    d.answer(PREPARE_PROMOTION, ts(4, 1)); // reached at once: no steps
    assertFalse(ask(d, 4).ok());
    KeeperDriver e = peerIn(REPORT_LSN, ts(3, 5));
    e.answer(FAST_FORWARD, ts(3, 6)); // still running its steps
    assertFalse(ask(e, 3).ok());
  }

  @Test
  void aPeerThatKnowsANewerTermRefusesAndSaysSo() {
    KeeperDriver d = peerIn(SECONDARY, ts(5, 1));
    Action.AnswerPeer a = ask(d, 3);
    assertFalse(a.ok());
    assertEquals(5, a.term());
    assertTrue(a.reason().contains("newer term 5"));
    assertEquals(null, d.state.promise() != null && d.state.promise().primaryId() == 2 ? "promised" : null);
  }

  @Test
  void aRequestWithANewerTermTeachesIt() {
    KeeperDriver d = peerIn(SECONDARY, ts(3, 5));
    List<Action> out = d.on(new Event.PeerPromiseRequest(1, 2, 9));
    assertTrue(d.in(out, Action.AnswerPeer.class).get(0).ok());
    assertEquals(9, d.in(out, Action.PersistState.class).get(0).state().knownTerm());
    d.advance(1_100); // the first report, unanswered, counts as lost after its wait plus an interval
    assertEquals(9, d.lastReport().report().knownTerm());
  }

  @Test
  void theKnownTermGrowsFromReplies() {
    KeeperDriver d = peerIn(SECONDARY, ts(3, 5));
    d.term = 7;
    d.answer(SECONDARY, ts(3, 5));
    assertEquals(7, d.state.node().knownTerm());
    d.term = 6;
    d.answer(SECONDARY, ts(3, 5));
    assertEquals(7, d.state.node().knownTerm(), "it never goes back");
    d.advance(600);
    assertEquals(7, d.lastReport().report().knownTerm());
  }
}
