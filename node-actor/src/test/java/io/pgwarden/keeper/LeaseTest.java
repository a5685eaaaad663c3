package io.pgwarden.keeper;

import static io.pgwarden.keeper.KeeperDriver.peer;
import static io.pgwarden.keeper.KeeperDriver.ts;
import static io.pgwarden.model.NodeState.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The write lease: renewal from the send time, expiry on either clock, the fence, restarts. */
class LeaseTest {

  /**
   * A primary whose keeper restarted with PostgreSQL stopped, got its lease from a report sent at
   * {@code grantedAt} and started PostgreSQL. One promotable peer that never answers the failsafe.
   */
  static KeeperDriver runningPrimary() {
    KeeperDriver d = new KeeperDriver();
    d.peers = List.of(peer(2, SECONDARY, 50));
    d.start(PRIMARY, ts(3, 5)).facts(PgFacts.stopped());
    List<Action> a = d.answer(PRIMARY, ts(3, 5));
    assertEquals(List.of(new Action.StartPostgres(false)), d.in(a, Action.StartPostgres.class));
    d.facts(PgFacts.primary(""));
    assertEquals(List.of(), d.now(Action.FencePostgres.class));
    return d;
  }

  @Test
  void theLeaseRunsOutOnTheMonotonicClock() {
    KeeperDriver d = runningPrimary();
    long granted = d.state.lease().fromMono();
    assertEquals(d.mono, granted);
    assertEquals(List.of(), d.in(d.advance(1_900), Action.FencePostgres.class));
    // the wall clock is stepped back: it must not stretch the lease
    d.wall -= 10_000;
    assertEquals(List.of(), d.in(d.advance(99), Action.FencePostgres.class));
    List<Action.FencePostgres> fence = d.in(d.advance(1), Action.FencePostgres.class);
    assertEquals(1, fence.size(), "fenced exactly L after the report was sent");
    assertTrue(fence.get(0).reason().contains("lease ended 0 ms ago"), fence.get(0).reason());
  }

  @Test
  void theLeaseRunsOutOnTheWallClockAlone() {
    KeeperDriver d = runningPrimary();
    assertEquals(List.of(), d.in(d.advance(500), Action.FencePostgres.class));
    d.wall += 1_500; // a clock step forward: 2 000 ms of wall time since the send, 500 ms monotonic
    List<Action> a = d.on(new Event.Tick());
    assertEquals(1, d.in(a, Action.FencePostgres.class).size());
    assertTrue(d.in(a, Action.SendReport.class).get(0).report().fenced(), "the next report says fenced");
  }

  @Test
  void theLeaseCountsFromTheSendNotFromTheAnswer() {
    KeeperDriver d = runningPrimary();
    d.advance(500);
    Action.SendReport slow = d.lastReport();
    d.advance(1_500);
    d.on(new Event.ReplyReceived(d.reply(PRIMARY, ts(3, 5), 2_000, 0), slow.sentMono(), slow.sentWall()));
    assertEquals(List.of(), d.now(Action.FencePostgres.class));
    assertEquals(List.of(), d.in(d.advance(400), Action.FencePostgres.class));
    assertEquals(1, d.in(d.advance(100), Action.FencePostgres.class).size(), "ends 2 000 ms after that send");
  }

  @Test
  void eachAnswerRenewsAndAnOlderAnswerNeverExtends() {
    KeeperDriver d = runningPrimary();
    Action.SendReport first = d.lastReport();
    d.advance(500);
    d.answer(PRIMARY, ts(3, 5));
    long renewed = d.state.lease().fromMono();
    assertEquals(first.sentMono() + 500, renewed);
    d.on(new Event.ReplyReceived(d.reply(PRIMARY, ts(3, 5), 2_000, 0), first.sentMono(), first.sentWall()));
    assertEquals(renewed, d.state.lease().fromMono());
  }

  @Test
  void aLiveControllerKeepsThePrimaryWritable() {
    KeeperDriver d = runningPrimary();
    for (int i = 0; i < 100; i++) {
      d.advance(100);
      if (d.lastReport().sentMono() == d.mono) d.answer(PRIMARY, ts(3, 5));
      assertEquals(List.of(), d.now(Action.FencePostgres.class));
    }
  }

  @Test
  void aWritablePostgresWithoutALeaseIsFencedAtOnce() {
    KeeperDriver d = new KeeperDriver();
    d.start(PRIMARY, ts(3, 5));
    List<Action> a = d.facts(PgFacts.primary("")).last;
    assertTrue(d.in(a, Action.FencePostgres.class).get(0).reason().contains("no write lease since the keeper started"));
    assertTrue(d.in(a, Action.SendReport.class).get(0).report().fenced());
    // repeated while it still looks writable, but not at every tick
    assertEquals(List.of(), d.in(d.advance(400), Action.FencePostgres.class));
    assertEquals(1, d.in(d.advance(100), Action.FencePostgres.class).size());
    // once a report saying so is answered, later reports no longer say fenced
    d.facts(PgFacts.stopped());
    d.answer(DEMOTED, ts(4, 1));
    d.finishAll();
    d.advance(600);
    assertFalse(d.lastReport().report().fenced());
  }

  @Test
  void aStandbyThatWasPromotedBehindTheKeepersBackIsFenced() {
    KeeperDriver d = new KeeperDriver();
    d.start(SECONDARY, ts(3, 5)).facts(PgFacts.standby());
    assertEquals(List.of(), d.now(Action.FencePostgres.class));
    d.facts(PgFacts.primary(""));
    assertEquals(1, d.now(Action.FencePostgres.class).size());
  }

  @Test
  void aHungPostgresKeepsItsLastKnownRecoveryStatus() {
    KeeperDriver d = new KeeperDriver();
    d.start(SECONDARY, ts(3, 5)).facts(PgFacts.standby());
    d.facts(new PgFacts(io.pgwarden.model.PgStatus.HUNG, false, 0, 0, null, null, "", null, null, null));
    assertEquals(List.of(), d.now(Action.FencePostgres.class), "a hung standby is still a standby");
    KeeperDriver p = new KeeperDriver();
    p.start(PRIMARY, ts(3, 5)).facts(PgFacts.stopped());
    p.facts(new PgFacts(io.pgwarden.model.PgStatus.HUNG, false, 0, 0, null, null, "", null, null, null));
    assertEquals(1, p.now(Action.FencePostgres.class).size(), "a hung server of unknown role may write");
    KeeperDriver s = new KeeperDriver();
    s.start(CATCHINGUP, ts(3, 5)).facts(PgFacts.stopped());
    s.facts(new PgFacts(io.pgwarden.model.PgStatus.HUNG, true, 0, 0, null, null, "", null, null, null));
    assertEquals(List.of(), s.now(Action.FencePostgres.class), "a standby still starting up cannot write");
  }

  @Test
  void theOperatorsPostgresAndAnUnmanagedOneAreNotFenced() {
    KeeperDriver m = new KeeperDriver();
    m.start(MAINTENANCE, ts(3, 5)).facts(PgFacts.primary(""));
    assertEquals(List.of(), m.in(m.advance(3_000), Action.FencePostgres.class));
    KeeperDriver fresh = new KeeperDriver();
    fresh.start(INIT, ts(0, 0)).facts(PgFacts.primary(""));
    assertEquals(List.of(), fresh.now(Action.FencePostgres.class), "found before the keeper managed anything");
  }

  @Test
  void noWritableStartAfterARestartUntilAGrant() {
    KeeperDriver d = new KeeperDriver();
    d.start(PRIMARY, ts(3, 5)).facts(PgFacts.stopped());
    // the controller does not answer: nothing starts, and the failsafe has no peers from this incarnation
    List<Action> a = d.advance(5_000);
    assertEquals(List.of(), d.in(a, Action.StartPostgres.class));
    assertEquals(List.of(), d.in(a, Action.AskPeers.class));
    // an answer without a lease (the goal is no longer writable) starts nothing either
    d.answer(d.reply(PRIMARY, ts(3, 5), 0, 0));
    assertEquals(List.of(), d.now(Action.StartPostgres.class));
    d.answer(PRIMARY, ts(3, 5));
    assertEquals(List.of(new Action.StartPostgres(false)), d.now(Action.StartPostgres.class));
  }

  @Test
  void aNodeBecomingWritableWaitsForItsLeaseAtTheGate() {
    KeeperDriver d = new KeeperDriver();
    d.start(DEMOTE_TIMEOUT, ts(3, 5)).facts(PgFacts.stopped());
    d.advance(d.cfg.promiseMs()); // the promise a restarted keeper assumes
    d.answer(d.reply(PRIMARY, ts(3, 6), 0, 0));
    assertEquals(List.of(), d.now(Action.RunSteps.class));
    assertEquals(Transition.Phase.AWAITING_LEASE, d.state.transition().phase());
    d.answer(PRIMARY, ts(3, 6));
    Action.RunSteps run = d.now(Action.RunSteps.class).get(0);
    assertEquals(List.of(Step.START, Step.SYNC_FROM_CONTROLLER), run.steps());
    assertEquals(d.lastReport().sentMono() + d.t.leaseMs(), run.notAfterMono(), "not after the lease ends");
  }

  @Test
  void leavingAWritableStateDropsTheLease() {
    KeeperDriver d = runningPrimary();
    d.answer(DRAINING, ts(4, 1));
    assertEquals(List.of(Step.STOP), d.lastRun().steps());
    d.facts(PgFacts.stopped());
    d.finishOk();
    assertEquals(null, d.state.lease());
  }
}
