package io.pgwarden.keeper;

import static io.pgwarden.keeper.KeeperDriver.peer;
import static io.pgwarden.keeper.KeeperDriver.ts;
import static io.pgwarden.model.NodeState.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgwarden.model.Lsn;
import io.pgwarden.model.NodeReport;
import io.pgwarden.model.PgStatus;
import io.pgwarden.model.WalReceiverInfo;
import io.pgwarden.model.WalSenderInfo;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the keeper reports and when; what "ensure the current state" does between transitions. */
class ReportsAndEnsureTest {

  @Test
  void anIdleKeeperLongPollsOncePerInterval() {
    KeeperDriver d = GoalsTest.secondaryAt(ts(3, 5));
    d.answer(SECONDARY, ts(3, 5));
    List<Action> a = d.advance(400);
    assertEquals(List.of(), d.in(a, Action.SendReport.class));
    Action.SendReport r = d.in(d.advance(100), Action.SendReport.class).get(0);
    assertEquals(d.t.reportIntervalMs(), r.waitMs());
    assertEquals(ts(3, 5), r.knownStamp());
    assertEquals("long-poll", r.reason());
    // held by the controller for the wait: no second report meanwhile
    assertEquals(List.of(), d.in(d.advance(500), Action.SendReport.class));
    // its answer comes at the end of the wait: the next long-poll goes at once
    assertEquals(1, d.in(d.answer(SECONDARY, ts(3, 5)), Action.SendReport.class).size());
  }

  @Test
  void aBusyKeeperReportsEveryIntervalWithoutWaiting() {
    KeeperDriver d = GoalsTest.secondaryAt(ts(3, 5));
    d.answer(CATCHINGUP, ts(3, 6));
    List<Action.SendReport> sent = new java.util.ArrayList<>();
    for (int i = 0; i < 10; i++) {
      List<Action.SendReport> now = d.in(d.advance(100), Action.SendReport.class);
      sent.addAll(now);
      if (!now.isEmpty()) d.answer(CATCHINGUP, ts(3, 6)); // answered at once: nothing to wait for
    }
    assertEquals(2, sent.size());
    assertTrue(sent.stream().allMatch(r -> r.waitMs() == 0 && r.reason().equals("periodic")));
    assertTrue(sent.stream().allMatch(r -> r.knownStamp().equals(ts(3, 5))), "known stamp: the last executed");
  }

  @Test
  void aFinishedTransitionIsReportedAtOnce() {
    KeeperDriver d = GoalsTest.secondaryAt(ts(3, 5));
    d.answer(CATCHINGUP, ts(3, 6));
    Action.SendReport r = d.in(d.finishOk(), Action.SendReport.class).get(0);
    assertEquals("reached catchingup", r.reason());
    assertEquals(CATCHINGUP, r.report().state());
    assertEquals(ts(3, 6), r.report().executed());
  }

  @Test
  void theFirstReportWaitsForFactsButNotForever() {
    KeeperDriver d = new KeeperDriver();
    d.start(SECONDARY, ts(3, 5));
    assertEquals(List.of(), d.now(Action.SendReport.class));
    Action.SendReport r = d.in(d.advance(500), Action.SendReport.class).get(0);
    assertEquals(PgStatus.STOPPED, r.report().pg());
  }

  @Test
  void theReportCarriesTheFacts() {
    KeeperDriver d = new KeeperDriver();
    WalReceiverInfo rcv = new WalReceiverInfo("streaming", 2, "10.0.0.2", 5432, 4, 120L);
    WalSenderInfo snd = new WalSenderInfo("pgwarden_3", 3, "streaming", "async", Lsn.of(10), Lsn.of(9), 80L);
    PgFacts f = new PgFacts(PgStatus.RUNNING, true, 77, 4, Lsn.of(0x5000), Lsn.of(0x4000), "", List.of(snd), rcv, 300L);
    d.start(SECONDARY, ts(3, 5)).facts(f);
    NodeReport r = d.lastReport().report();
    assertEquals(new NodeReport(SECONDARY, ts(3, 5), 3, PgStatus.RUNNING, true, 77, 4, Lsn.of(0x5000),
        Lsn.of(0x4000), "", List.of(snd), rcv, 300L, false, null, null), r);
  }

  // ------------------------------------------------------------------ ensure

  @Test
  void aPrimaryThatCannotBeRestartedReportsFailed() {
    KeeperDriver d = LeaseTest.runningPrimary();
    long crash = d.mono;
    int starts = d.in(d.facts(PgFacts.stopped()).last, Action.StartPostgres.class).size();
    PgStatus reported = null;
    long failedAt = 0;
    for (int i = 0; i < 60 && reported != PgStatus.FAILED; i++) {
      d.advance(100);
      starts += d.now(Action.StartPostgres.class).size();
      if (d.lastReport().sentMono() == d.mono) {
        reported = d.lastReport().report().pg();
        failedAt = d.mono;
        d.answer(PRIMARY, ts(3, 5));
      }
    }
    assertEquals(PgStatus.FAILED, reported);
    assertEquals(d.cfg.restartAttempts() + 1, starts, "every allowed start had its chance");
    long budget = d.cfg.restartAttempts() * d.cfg.restartBackoffMs();
    assertTrue(failedAt - crash >= budget && failedAt - crash <= budget + d.t.reportIntervalMs(), "" + (failedAt - crash));
  }

  @Test
  void aPrimaryThatRestartsReportsRunningAgain() {
    KeeperDriver d = LeaseTest.runningPrimary();
    d.facts(PgFacts.stopped());
    assertEquals(List.of(new Action.StartPostgres(false)), d.now(Action.StartPostgres.class));
    d.facts(PgFacts.primary(""));
    d.advance(2_000);
    assertEquals(PgStatus.RUNNING, d.lastReport().report().pg());
  }

  @Test
  void aStandbyIsStartedReadOnlyWithoutAnyLease() {
    KeeperDriver d = new KeeperDriver();
    d.start(SECONDARY, ts(3, 5)).facts(PgFacts.stopped());
    assertEquals(List.of(new Action.StartPostgres(true)), d.now(Action.StartPostgres.class));
    assertEquals(List.of(), d.in(d.advance(900), Action.StartPostgres.class), "starts are spaced");
    assertEquals(1, d.in(d.advance(100), Action.StartPostgres.class).size());
  }

  @Test
  void statesThatKeepPostgresStoppedStopIt() {
    for (var s : List.of(DEMOTED, DEMOTE_TIMEOUT, DRAINING, JOIN_SECONDARY, PREPARE_MAINTENANCE)) {
      KeeperDriver d = new KeeperDriver();
      d.start(s, ts(3, 5)).facts(PgFacts.standby());
      assertEquals(1, d.now(Action.StopPostgres.class).size(), s.wireName());
    }
  }

  @Test
  void maintenanceLeavesPostgresToTheOperator() {
    KeeperDriver d = new KeeperDriver();
    d.start(MAINTENANCE, ts(3, 5)).facts(PgFacts.stopped());
    List<Action> a = d.advance(3_000);
    assertEquals(List.of(), d.in(a, Action.StartPostgres.class));
    d.facts(PgFacts.standby());
    a = d.advance(3_000);
    assertEquals(List.of(), d.in(a, Action.StopPostgres.class));
  }

  @Test
  void stopReplicationStartsOnlyUnderItsPermit() {
    KeeperDriver d = new KeeperDriver();
    d.start(STOP_REPLICATION, ts(4, 3)).facts(PgFacts.stopped());
    assertEquals(List.of(), d.in(d.advance(3_000), Action.StartPostgres.class));
    d.term = 4;
    d.answer(STOP_REPLICATION, ts(4, 3));
    assertEquals(List.of(new Action.StartPostgres(true)), d.now(Action.StartPostgres.class));
  }

  @Test
  void peersGetSlotsAndHbaWhenTheyChange() {
    KeeperDriver d = LeaseTest.runningPrimary();
    assertEquals(1, d.all.stream().filter(x -> x instanceof Action.MaintainPeers).count());
    d.advance(500);
    d.peers = List.of(peer(2, SECONDARY, 50), peer(3, WAIT_STANDBY, 50));
    List<Action> a = d.answer(PRIMARY, ts(3, 5));
    assertEquals(List.of(2, 3), d.in(a, Action.MaintainPeers.class).get(0).peers().stream()
        .map(io.pgwarden.model.PeerInfo::nodeId).toList());
    a = d.advance(500);
    assertEquals(List.of(), d.in(a, Action.MaintainPeers.class), "unchanged: not again before the refresh");
  }

  @Test
  void ensureWaitsWhileATransitionRuns() {
    KeeperDriver d = GoalsTest.secondaryAt(ts(3, 5));
    d.answer(CATCHINGUP, ts(3, 6));
    d.facts(PgFacts.stopped());
    assertEquals(List.of(), d.now(Action.StartPostgres.class));
    assertFalse(d.state.transition() == null);
    assertNull(d.state.error());
  }
}
