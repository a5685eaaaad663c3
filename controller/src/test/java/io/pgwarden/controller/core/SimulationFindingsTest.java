package io.pgwarden.controller.core;

import static io.pgwarden.model.NodeState.CATCHINGUP;
import static io.pgwarden.model.NodeState.DEMOTE_TIMEOUT;
import static io.pgwarden.model.NodeState.PREPARE_PROMOTION;
import static io.pgwarden.model.NodeState.PRIMARY;
import static io.pgwarden.model.NodeState.SECONDARY;
import static io.pgwarden.model.NodeState.STOP_REPLICATION;
import static io.pgwarden.model.NodeState.WAIT_PRIMARY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgwarden.model.FormationEvent;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.PgStatus;
import io.pgwarden.model.TermSeq;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Decision-core bugs the deterministic simulator found (docs/simulation.md, "Findings"), one test each. */
class SimulationFindingsTest {

  /** The controller restarts on a journal that lost its last events. */
  static void restartLosingTail(CoreHarness h, int keep) {
    List<FormationEvent> kept = new ArrayList<>(h.journal.subList(0, keep));
    h.journal.clear();
    h.journal.addAll(kept);
    Formation f = Formation.empty("f");
    for (FormationEvent e : kept) f = f.apply(e);
    h.f = f;
    h.obs = Observations.boot(h.obs.epoch() + 1, h.mono);
    h.run(new Input.Start(true));
  }

  /**
   * Finding 1: a keeper executed a decision the journal lost; the restart raised the term, so its executed
   * stamp was not newer than the journal's, and the goal the journal had for it looked "not newer" to it
   * forever.
   */
  @Test
  void aLostDecisionIsReissuedEvenWhenTheRestartRaisedTheTerm() {
    CoreHarness h = CoreHarness.formation("a", "b");
    int keep = h.journal.size();
    h.with(2, s -> s.pg = PgStatus.STOPPED); // b fails: its goal becomes catchingup, which b executes
    h.round();
    assertEquals(CATCHINGUP, h.goal(2));
    h.report(2);
    assertEquals(CATCHINGUP, h.sim(2).state);
    TermSeq executed = h.sim(2).executed;
    restartLosingTail(h, keep); // the decision is gone; the restart raises the term
    assertEquals(SECONDARY, h.goal(2));
    assertTrue(h.f.stamp().isNewerThan(executed), "the journal's stamp looks newer than what b executed");
    h.with(2, s -> s.pg = PgStatus.RUNNING);
    h.report(2);
    assertTrue(h.rules().contains("restamp-after-lost-tail"), h.rules().toString());
    assertTrue(h.f.member(2).orElseThrow().goal().stamp().isNewerThan(executed));
    h.converge();
    assertEquals(SECONDARY, h.goal(2));
    assertEquals(SECONDARY, h.sim(2).state);
  }

  /**
   * Finding 2: a keeper that had just restarted reported its election state with no facts (timeline 0,
   * LSN 0/0); the election counted that as its position and chose a node missing acknowledged commits.
   */
  @Test
  void anElectionWaitsForPositionsReadFromRunningServers() {
    CoreHarness h = ElectionTest.threeNodes();
    h.with(3, s -> s.lsn += 5000); // c holds commits b has not
    h.converge();
    ElectionTest.killPrimary(h, 1);
    long start = h.mono;
    while (h.mono - start < 15_000 && h.goal(3) != NodeState.REPORT_LSN) {
      h.round();
      h.advance(100);
    }
    assertEquals(NodeState.REPORT_LSN, h.goal(3), h.rules().toString());
    h.with(3, s -> {
      s.pg = PgStatus.STOPPED; // c's keeper restarted: its server is not up yet, its report has no facts
      s.timeline = 0;
    });
    h.live(3_000);
    assertTrue(h.decisions().stream().noneMatch(d -> d.rule().startsWith("E3")), "no election on c's empty"
        + " report: " + h.rules());
    h.with(3, s -> {
      s.pg = PgStatus.RUNNING;
      s.timeline = 1;
    });
    h.until(() -> h.writer() != null && h.goal(h.writer()) == WAIT_PRIMARY, 20_000);
    assertTrue(h.sim(h.writer()).lsn >= h.sim(3).lsn, "the new primary has c's commits: " + h.rules());
  }

  /**
   * Finding 3: a primary whose server is down reports synchronous_standby_names '' (no facts); that was
   * believed as a weaker quorum, voiding the guarantee an election must keep.
   */
  @Test
  void aStoppedPrimarysReportDoesNotWeakenTheConfirmedQuorum() {
    CoreHarness h = CoreHarness.formation("a", "b");
    SyncConfig before = h.f.confirmedQuorum();
    assertTrue(before.synchronous(), before.toString());
    h.with(1, s -> s.pg = PgStatus.STOPPED);
    h.report(1);
    assertEquals(before, h.f.confirmedQuorum());
    assertTrue(h.journal.stream().filter(e -> e instanceof FormationEvent.QuorumConfirmed).map(
        e -> (FormationEvent.QuorumConfirmed) e).allMatch(q -> q.required() > 0 || q.members().isEmpty()
        || q.primaryId() != 1 || !h.journal.isEmpty()));
    var configs = GroupRules.of(h.f, h.obs, h.t, h.mono).possibleConfigs(h.f.member(1).orElseThrow());
    assertTrue(configs.stream().allMatch(SyncConfig::synchronous), configs.toString());
  }

  /**
   * Finding 4: after a lost tail, the node that ran ahead into a promotion was re-issued its state beside
   * a primary still writable in the journal, and S15/S17 then gave it writes: two writable goals.
   */
  @Test
  void aCandidateThatRanAheadOfALostTailDoesNotBecomeASecondWriter() {
    CoreHarness h = CoreHarness.formation("a", "b");
    int keep = h.journal.size();
    ElectionTest.killPrimary(h, 1);
    h.until(() -> h.sim(2).state == PREPARE_PROMOTION || h.sim(2).state == STOP_REPLICATION, 20_000);
    restartLosingTail(h, keep); // the failover decision is lost: a is primary again in the journal
    assertEquals(PRIMARY, h.goal(1));
    h.live(10_000);
    long writable = h.f.active().stream().filter(m -> m.goalState().canTakeWrites()).count();
    assertTrue(writable <= 1, h.goals());
    assertTrue(h.goal(1) == DEMOTE_TIMEOUT || h.goal(1) == NodeState.DEMOTED, h.goals());
    assertNotNull(h.writer(), h.goals());
    assertEquals(2, h.writer());
  }

  /**
   * Finding 13: a switchover of a primary that replicates asynchronously (its only standby out of the
   * quorum) promoted a standby that had missed the last acknowledged commits.
   */
  @Test
  void aSwitchoverOfAnAsynchronousPrimaryIsRefused() {
    CoreHarness h = CoreHarness.formation("a", "b");
    h.operator("set-replication-quorum", "b", 0L, false, null);
    h.converge();
    assertEquals(PRIMARY, h.goal(1));
    Object r = h.operator("switchover", null, null, false, null);
    assertTrue(r instanceof io.pgwarden.api.ApiException e && e.status() == 409
        && e.getMessage().contains("could lose acknowledged writes"), String.valueOf(r));
    assertEquals(PRIMARY, h.goal(1));
    h.operator("set-replication-quorum", "b", 1L, false, null);
    h.converge();
    assertTrue(h.operator("switchover", null, null, false, null) instanceof io.pgwarden.api.Dto.Operation);
  }

  /**
   * Finding 14: the election chose, by priority, a node with more WAL on an older timeline than the newest
   * timeline reaches — it wrote past the fork — and asked it to fast-forward, which cannot bring it onto
   * the newest timeline (and with a replay check blind to timelines, lost the commits of the newest one).
   */
  @Test
  void aNodeThatWrotePastTheForkIsNotElected() {
    CoreHarness h = ElectionTest.threeNodes();
    h.operator("set-candidate-priority", "b", 100L, false, null);
    h.converge();
    ElectionTest.killPrimary(h, 1);
    h.with(2, s -> s.lsn += 50_000); // b: an old primary's timeline, further along it
    h.with(3, s -> s.timeline = 2);  // c: on the newer timeline, behind b's position
    h.until(() -> h.goal(2) == PREPARE_PROMOTION || h.goal(3) == PREPARE_PROMOTION
        || h.goal(2) == NodeState.FAST_FORWARD, 20_000);
    assertEquals(PREPARE_PROMOTION, h.goal(3), h.rules().toString());
  }

  /**
   * Finding 15 (seed 9478): the operator dropped a primary in wait_primary whose standby was still catching
   * up; the standby, alone, became single and lost the writes the dropped primary had acknowledged at on.
   */
  @Test
  void aDropOfAPrimaryThatWouldLoseWritesIsRefusedUnlessForced() {
    CoreHarness h = CoreHarness.formation("a", "b");
    h.operator("set-replication-quorum", "b", 0L, false, null);
    h.converge();
    long seq = h.f.seq();
    Object r = h.operator("drop-node", "a", null, false, null);
    assertTrue(r instanceof io.pgwarden.api.ApiException e && e.status() == 409
        && e.getMessage().contains("could lose acknowledged writes"), String.valueOf(r));
    assertEquals(PRIMARY, h.goal(1));
    assertEquals(seq, h.f.seq(), "a refused drop changes nothing");
    assertTrue(h.operator("drop-node", "a", null, true, null) instanceof io.pgwarden.api.Dto.Operation);
    assertFalse(h.f.members().containsKey(1));
  }

  /**
   * Finding 16: the decision that opened writes on the new primary (and demoted the old one) was lost with
   * the journal's tail; the restamp kept the old primary's demote_timeout, and once it returned it waited
   * there for good: no rule took a stopped old primary beside an established writer further.
   */
  static CoreHarness oldPrimaryReturnsAfterALostFailoverTail() {
    CoreHarness h = CoreHarness.formation("a", "b");
    ElectionTest.killPrimary(h, 1);
    h.until(() -> h.goal(1) == DEMOTE_TIMEOUT, 20_000);
    int keep = h.journal.size(); // a: demote_timeout, b: stop_replication
    h.until(() -> h.sim(2).state == NodeState.WAIT_PRIMARY, 20_000);
    restartLosingTail(h, keep); // writes opened on b, a demoted: both lost
    h.live(3_000);
    assertEquals(DEMOTE_TIMEOUT, h.goal(1), h.goals());
    RuleTableTest.revive(h, 1);
    h.converge();
    return h;
  }

  @Test
  void anOldPrimaryLeftInDemoteTimeoutByALostTailRejoins() {
    CoreHarness h = oldPrimaryReturnsAfterALostFailoverTail();
    assertTrue(h.rules().contains("S18-demotion-done"), h.rules().toString());
    assertEquals(SECONDARY, h.goal(1), h.goals());
    assertEquals(SECONDARY, h.sim(1).state, h.goals());
    assertEquals(2, h.writer());
  }

  /**
   * Finding 18 (seed 401): the decision that took a standby from join_secondary to secondary was lost with
   * the journal's tail; the restamp re-issued join_secondary to a node that was already a secondary of the
   * new primary, and the keeper has no path from secondary into join_secondary: it stayed there for good.
   */
  static CoreHarness aStandbyToldJoinSecondaryAfterALostTail() {
    CoreHarness h = ElectionTest.threeNodes();
    ElectionTest.killPrimary(h, 1);
    h.until(() -> h.f.active().stream().anyMatch(m -> m.goalState() == NodeState.JOIN_SECONDARY), 20_000);
    int other = h.f.active().stream().filter(m -> m.goalState() == NodeState.JOIN_SECONDARY).findFirst()
        .orElseThrow().nodeId();
    h.until(() -> h.sim(other).state == NodeState.JOIN_SECONDARY, 20_000);
    int keep = h.journal.size();
    h.until(() -> h.sim(other).state == SECONDARY && h.writer() != null
        && h.sim(h.writer()).state.canTakeWrites(), 20_000);
    for (var sim : h.nodes.values()) sim.streaming = sim.id != 1; // the standby streams from the new primary
    h.live(1_000);
    restartLosingTail(h, keep);
    h.live(2_000);
    return h;
  }

  @Test
  void aStandbyToldJoinSecondaryAfterALostTailStaysASecondary() {
    CoreHarness h = aStandbyToldJoinSecondaryAfterALostTail();
    h.converge();
    assertTrue(h.rules().contains("S21-goal-without-a-path"), h.rules().toString());
    for (int id : List.of(2, 3)) {
      if (id == h.writer()) continue;
      assertEquals(SECONDARY, h.goal(id), h.goals());
      assertEquals(SECONDARY, h.sim(id).state, h.goals());
    }
  }

  /**
   * Finding 19 (seed 562): the operator dropped the new primary while the old one was still down with goal
   * demoted; the drop asked every other node for its LSN, and the old primary came back as primary with
   * goal report_lsn, which no keeper can go to from primary. Only standbys that are where their goal says
   * are asked now; a node that does come back writable when asked for its LSN drains first (S21).
   */
  @Test
  void aDropOfTheNewPrimaryDoesNotAskTheDownOldPrimaryForItsLsn() {
    CoreHarness h = ElectionTest.threeNodes();
    ElectionTest.killPrimary(h, 1);
    h.until(() -> h.writer() != null && h.writer() != 1 && h.sim(h.writer()).state.canTakeWrites(), 20_000);
    for (var sim : h.nodes.values()) sim.streaming = true;
    h.converge();
    int newPrimary = h.writer();
    assertEquals(NodeState.DEMOTED, h.goal(1), h.goals());
    Object r = h.operator("drop-node", h.f.member(newPrimary).orElseThrow().name(), null, false, null);
    assertTrue(r instanceof io.pgwarden.api.Dto.Operation, String.valueOf(r));
    assertEquals(NodeState.DEMOTED, h.goal(1), "a down old primary is not asked for its LSN: " + h.goals());
    h.until(() -> h.writer() != null && h.writer() != newPrimary, 20_000);
    RuleTableTest.revive(h, 1);
    h.converge();
    assertEquals(SECONDARY, h.sim(1).state, h.goals());
  }

  /**
   * Finding 20 (seed 700): a standby's report from before an election (secondary) arrived after its report
   * of report_lsn, was taken for news, and the node was given a goal for a secondary while it was on its
   * way into join_secondary, from which that goal has no path. A report older than the last one seen (by
   * what its keeper executed) now changes nothing.
   */
  @Test
  void aReportOvertakenOnTheWayChangesNothing() {
    CoreHarness h = CoreHarness.formation("a", "b");
    io.pgwarden.model.NodeReport old = h.reportOf(h.sim(2));
    ElectionTest.killPrimary(h, 1);
    h.until(() -> h.sim(2).state == PREPARE_PROMOTION, 20_000);
    h.report(2); // the controller hears b in prepare_promotion...
    NodeState heard = h.obs.of(2).report().state();
    assertTrue(heard != SECONDARY, heard.toString());
    long seq = h.f.seq();
    Object reply = h.run(new Input.Report(2, old)); // ...then b's report from before the failover arrives
    assertTrue(reply instanceof io.pgwarden.model.ReportReply rr && rr.goal().state() == h.goal(2),
        String.valueOf(reply));
    assertEquals(heard, h.obs.of(2).report().state(), "the late report was taken for news");
    assertEquals(seq, h.f.seq(), "a late report decides nothing");
    assertTrue(h.notes.stream().noneMatch(n -> n.event() instanceof io.pgwarden.model.NodeEvent.ReportRejected),
        "a late report is not an anomaly");
  }

  /**
   * Finding 21 (seeds 346, 827): a node told to clone entered the synchronous quorum before it had any
   * data, and an election after the primary's failure waited for it for good. It joins the quorum once it
   * reports catchingup.
   */
  @Test
  void aNodeStillCloningIsNotInTheSynchronousQuorum() {
    CoreHarness h = CoreHarness.formation("a", "b");
    h.operator("set-number-sync-standbys", null, 1L, false, null);
    h.converge();
    int c = h.register("c");
    h.report(c); // c reports wait_standby
    h.round();
    assertEquals(CATCHINGUP, h.goal(c), h.goals());
    h.with(c, s -> s.up = false); // still cloning: no further report
    h.live(2_000);
    assertEquals("ANY 1 (pgwarden_2)", GroupRules.of(h.f, h.obs, h.t, h.mono).desiredNames(1), h.goals());
    h.with(c, s -> s.up = true);
    h.converge();
    assertTrue(GroupRules.of(h.f, h.obs, h.t, h.mono).desiredNames(1).contains("pgwarden_" + c), h.goals());
  }
}
