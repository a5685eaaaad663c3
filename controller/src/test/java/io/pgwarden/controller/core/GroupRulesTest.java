package io.pgwarden.controller.core;

import static io.pgwarden.model.NodeState.CATCHINGUP;
import static io.pgwarden.model.NodeState.DEMOTED;
import static io.pgwarden.model.NodeState.DRAINING;
import static io.pgwarden.model.NodeState.PREPARE_PROMOTION;
import static io.pgwarden.model.NodeState.PRIMARY;
import static io.pgwarden.model.NodeState.SECONDARY;
import static io.pgwarden.model.NodeState.SINGLE;
import static io.pgwarden.model.NodeState.STOP_REPLICATION;
import static io.pgwarden.model.NodeState.WAIT_PRIMARY;
import static io.pgwarden.model.NodeState.WAIT_STANDBY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgwarden.model.FormationEvent;
import io.pgwarden.model.PgStatus;
import io.pgwarden.model.ReportReply;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Sequences of the group state machine with two nodes: bootstrap, standby loss, failover and its gates. */
class GroupRulesTest {

  @Test
  void bootstrapSingleThenWaitPrimaryThenPrimary() {
    CoreHarness h = new CoreHarness();
    int a = h.register("a");
    assertEquals(SINGLE, h.goal(a));
    h.converge();
    assertEquals(SINGLE, h.sim(a).state);
    int b = h.register("b");
    assertEquals(WAIT_STANDBY, h.goal(b));
    h.converge();
    assertEquals(PRIMARY, h.goal(a));
    assertEquals(SECONDARY, h.goal(b));
    assertEquals(List.of("register", "register", "P1-single-to-wait-primary", "S5-wait-standby-to-catchingup",
        "S8-catchingup-to-secondary", "P2-wait-primary-to-primary"), h.rules());
    assertEquals("ANY 1 (pgwarden_2)", h.sim(a).syncNames);
    FormationEvent.QuorumConfirmed q = (FormationEvent.QuorumConfirmed) h.journal.stream()
        .filter(e -> e instanceof FormationEvent.QuorumConfirmed qc && qc.required() == 1).findFirst().orElseThrow();
    assertEquals(List.of(b), q.members());
  }

  @Test
  void onlyTheWritableNodeGetsALease() {
    CoreHarness h = CoreHarness.formation("a", "b");
    ReportReply ra = (ReportReply) h.report(1);
    ReportReply rb = (ReportReply) h.report(2);
    assertEquals(h.t.leaseMs(), ra.lease().durationMs());
    assertEquals(h.f.term(), ra.lease().term());
    assertNull(rb.lease());
    assertEquals(1, rb.upstream().nodeId());
  }

  @Test
  void P2_standbyLossTurnsPrimaryToWaitPrimaryAndBack() {
    CoreHarness h = CoreHarness.formation("a", "b");
    h.with(2, s -> {
      s.up = false;
      s.pgUp = false;
    });
    h.until(() -> h.goal(1) == WAIT_PRIMARY, 10_000);
    FormationEvent.Decided d = h.lastDecision();
    assertEquals("P2-primary-to-wait-primary", d.rule());
    assertEquals(CATCHINGUP, h.goal(2));
    assertEquals(2, d.goals().size(), "standby demotion and primary change are one decision");
    h.converge();
    assertEquals("", h.sim(1).syncNames);
    h.with(2, s -> {
      s.up = true;
      s.pgUp = true;
    });
    h.converge();
    assertEquals(PRIMARY, h.goal(1));
    assertEquals(SECONDARY, h.goal(2));
  }

  @Test
  void F1_twoNodeFailoverWaitsForTheOldLeaseThenOpensWrites() {
    CoreHarness h = CoreHarness.formation("a", "b");
    long term = h.f.term();
    h.report(1); // the last lease grant to a
    long lastGrant = h.mono;
    h.with(1, s -> {
      s.up = false;
      s.pgUp = false;
    });
    h.with(2, s -> s.streaming = false);
    h.until(() -> h.goal(2) == PREPARE_PROMOTION, 10_000);
    FormationEvent.Decided f1 = h.decisionBy("F1-failover-two-nodes");
    assertEquals(DRAINING, h.goal(1));
    assertEquals(0L, f1.inputs().walAtRiskBytes());
    assertEquals(term + 1, f1.stamp().term());
    assertTrue(h.mono - lastGrant >= h.t.silenceMs(), "not before the keeper is silent");
    h.until(() -> h.goal(2) == STOP_REPLICATION, 10_000);
    assertTrue(h.mono - lastGrant >= h.t.leaseCertainlyExpiredAfterMs(),
        "promotion permit only once a's lease has certainly expired: " + (h.mono - lastGrant));
    h.until(() -> h.goal(2) == WAIT_PRIMARY, 5_000);
    assertEquals(DEMOTED, h.goal(1));
    assertEquals("S17-open-writes", h.lastDecision().rule());
    ReportReply r = (ReportReply) h.report(2);
    assertEquals(h.t.leaseMs(), r.lease().durationMs());
    // the old primary comes back, is rewound, and follows
    h.with(1, s -> {
      s.up = true;
      s.pgUp = true;
      s.streaming = true;
    });
    h.converge();
    assertEquals(SECONDARY, h.goal(1));
    assertEquals(PRIMARY, h.goal(2));
    assertTrue(h.rules().contains("S19-demoted-to-catchingup"), h.rules().toString());
  }

  @Test
  void F1_aLeaseAnsweredLateThroughAHeldPollCountsFromTheReportsArrival() {
    CoreHarness h = CoreHarness.formation("a", "b");
    h.report(1); // a's last report arrives now...
    long arrived = h.mono;
    h.advance(400);
    // ...and is answered only when its long-poll wait ends, 400 ms later: the keeper still counts its lease
    // from its send, so the controller must count from the arrival, not from the answer
    Outcome o = h.core.reply(new DecisionCore.State(h.f, h.obs), 1, h.now());
    h.obs = o.observations();
    assertEquals(h.t.leaseMs(), ((ReportReply) o.reply()).lease().durationMs());
    h.with(1, s -> {
      s.up = false;
      s.pgUp = false;
    });
    h.with(2, s -> s.streaming = false);
    h.until(() -> h.goal(2) == STOP_REPLICATION, 10_000);
    long waited = h.mono - arrived;
    assertTrue(waited >= h.t.leaseCertainlyExpiredAfterMs(), "not before the lease certainly ended: " + waited);
    assertTrue(waited <= h.t.leaseCertainlyExpiredAfterMs() + 2 * h.t.tickMs(),
        "as soon as the lease counted from the report's arrival certainly ended: " + waited);
  }

  @Test
  void F1_standbyStreamingFromThePrimaryVetoesFailoverUntilTheVetoExpires() {
    CoreHarness h = CoreHarness.formation("a", "b");
    h.with(1, s -> {
      s.up = false;
      s.pgUp = false;
    });
    h.live(h.t.silenceMs() * 3);
    assertEquals(SECONDARY, h.goal(2), "b still receives WAL from a: no failover");
    h.until(() -> h.goal(2) == PREPARE_PROMOTION, h.t.vetoMaxMs() + 5_000);
    assertTrue(h.decisionBy("F1-failover-two-nodes").reason().contains("ignored after"));
  }

  @Test
  void F1_controllerProbeSuccessAloneKeepsThePrimary() {
    CoreHarness h = CoreHarness.formation("a", "b");
    h.with(1, s -> s.up = false); // keeper frozen, PostgreSQL answers
    h.with(2, s -> s.streaming = false);
    h.live(h.t.vetoMaxMs() + 1_000);
    assertEquals(PRIMARY, h.goal(1));
    assertEquals(SECONDARY, h.goal(2));
  }

  @Test
  void F1_standbyProbeEvidenceAlsoVetoes() {
    CoreHarness h = CoreHarness.formation("a", "b");
    h.with(1, s -> {
      s.up = false;
      s.pgUp = false;
    });
    h.with(2, s -> {
      s.streaming = false;
      s.probeAge = 100L;
    });
    h.live(h.t.silenceMs() * 2);
    assertEquals(SECONDARY, h.goal(2));
    h.with(2, s -> s.probeAge = null);
    h.until(() -> h.goal(2) == PREPARE_PROMOTION, 5_000);
  }

  @Test
  void F1_keeperReportingPostgresFailedTriggersFailoverAtOnce() {
    CoreHarness h = CoreHarness.formation("a", "b");
    h.with(1, s -> {
      s.pg = PgStatus.FAILED;
      s.pgUp = false;
    });
    h.with(2, s -> s.streaming = false);
    long t = h.until(() -> h.goal(2) == PREPARE_PROMOTION, 5_000);
    assertTrue(t < h.t.silenceMs(), "no silence wait when the keeper says PostgreSQL is gone: " + t);
    // the keeper is alive and stopped PostgreSQL under draining: no lease wait either
    h.until(() -> h.goal(2) == WAIT_PRIMARY, 5_000);
  }

  @Test
  void F1_noAutomaticFailoverOutOfWaitPrimary() {
    CoreHarness h = CoreHarness.formation("a", "b");
    // make the standby async: a goes to wait_primary with '' and the standby is not a quorum member
    h.operator("set-replication-quorum", "b", 0L, false, null);
    h.converge();
    assertEquals(PRIMARY, h.goal(1), h.rules().toString());
    assertEquals("", h.sim(1).syncNames);
    h.with(1, s -> {
      s.up = false;
      s.pgUp = false;
    });
    h.with(2, s -> s.streaming = false);
    h.live(h.t.silenceMs() * 4);
    assertEquals(SECONDARY, h.goal(2), "asynchronous standby: no automatic failover");
    assertTrue(h.decisions().stream().noneMatch(d -> d.rule().startsWith("F1")));
  }

  @Test
  void F1_failoverDataLossAllowedPermitsAsyncFailoverAndJournalsTheRisk() {
    CoreHarness h = CoreHarness.formation("a", "b");
    h.operator("set-replication-quorum", "b", 0L, false, null);
    h.operator("set-failover-data-loss-allowed", null, 1_000_000L, false, null);
    h.converge();
    h.with(1, s -> s.lsn += 4096);
    h.round();
    h.with(1, s -> {
      s.up = false;
      s.pgUp = false;
    });
    h.with(2, s -> s.streaming = false);
    h.until(() -> h.goal(2) == PREPARE_PROMOTION, 10_000);
    assertEquals(4096L, h.decisionBy("F1-failover-two-nodes").inputs().walAtRiskBytes());
  }

  @Test
  void startupGraceDelaysFailoverAfterAControllerStart() {
    CoreHarness h = CoreHarness.formation("a", "b");
    h.obs = Observations.boot(2, h.mono);
    h.run(new Input.Start(true));
    h.with(1, s -> {
      s.up = false;
      s.pgUp = false;
    });
    h.with(2, s -> s.streaming = false);
    long took = h.until(() -> h.goal(2) == PREPARE_PROMOTION, 10_000);
    assertTrue(took >= h.t.startupGraceMs(), "no failover within a lease plus a report interval: " + took);
  }

  @Test
  void controllerPauseIsNeverCountedAsSilence() {
    CoreHarness h = CoreHarness.formation("a", "b");
    h.with(1, s -> s.pgUp = false);
    h.with(2, s -> s.streaming = false);
    h.round();
    // the controller freezes for 10 s: no message in between
    h.mono += 10_000;
    h.wall += 10_000;
    h.with(1, s -> s.up = false);
    h.report(2);
    assertEquals(SECONDARY, h.goal(2), "a keeper is never judged silent across a controller pause");
    h.until(() -> h.goal(2) == PREPARE_PROMOTION, 10_000);
  }

  @Test
  void startRaisesTheTermAndEveryGoalCarriesIt() {
    CoreHarness h = CoreHarness.formation("a", "b");
    long before = h.f.term();
    h.obs = Observations.boot(2, h.mono);
    h.run(new Input.Start(true));
    assertEquals(before + 1, h.f.term());
    ReportReply r = (ReportReply) h.report(1);
    assertEquals(before + 1, r.term());
    assertEquals(before + 1, r.lease().term());
  }

  /**
   * Found by the end-to-end test of a controller killed during a failover: its H2 journal lost the
   * failover decision, the restarted controller re-issued the old primary's goal "primary" beside the
   * candidate's "prepare_promotion", then promoted and opened writes on the candidate with the old
   * primary still assigned "primary": two writable goals, no lease for either, the new primary fenced.
   */
  @Test
  void aLostFailoverDecisionIsNotUndoneByTheRestamp() {
    CoreHarness h = CoreHarness.formation("a", "b");
    Formation beforeFailover = h.f;
    h.with(1, s -> {
      s.up = false;
      s.pgUp = false;
    });
    h.with(2, s -> s.streaming = false);
    h.until(() -> h.goal(2) == PREPARE_PROMOTION, 10_000);
    h.report(2); // b executed the failover's goal
    // the controller restarts from a journal that lost the failover decision
    h.f = beforeFailover;
    h.obs = Observations.boot(2, h.mono);
    h.run(new Input.Start(true));
    h.until(() -> h.goal(2) == WAIT_PRIMARY, 20_000);
    assertNotEquals(PRIMARY, h.goal(1), "the old primary's stale goal is not re-issued");
    assertTrue(h.f.active().stream().filter(m -> m.goalState().canTakeWrites()).count() == 1, h.goals());
    ReportReply r = (ReportReply) h.report(2);
    assertTrue(r.lease() != null, "the new primary gets its lease");
  }

  @Test
  void keeperAheadOfTheJournalRaisesTheTermAndRestampsEveryGoal() {
    CoreHarness h = CoreHarness.formation("a", "b");
    var stamp = h.f.stamp();
    h.with(2, s -> s.executed = new io.pgwarden.model.TermSeq(stamp.term(), stamp.seq() + 3));
    h.report(2);
    assertTrue(h.f.term() > stamp.term());
    FormationEvent.Decided d = h.decisionBy("restamp-after-lost-tail");
    assertEquals(2, d.goals().size());
    assertTrue(d.stamp().isNewerThan(new io.pgwarden.model.TermSeq(stamp.term(), stamp.seq() + 3)));
    assertNotEquals(null, h.sim(2).lastReply);
  }

  @Test
  void afterARestartThePrimaryKeepsSyncReplicationWhileStandbysHaveNotReportedYet() {
    CoreHarness h = CoreHarness.formation("a", "b");
    h.obs = Observations.boot(2, h.mono);
    h.run(new Input.Start(true));
    h.report(1);
    h.report(1);
    assertEquals(PRIMARY, h.goal(1), "an unknown standby is not a failed one");
    assertEquals(SECONDARY, h.goal(2));
  }
}
