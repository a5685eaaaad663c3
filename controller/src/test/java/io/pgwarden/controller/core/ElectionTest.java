package io.pgwarden.controller.core;

import static io.pgwarden.model.NodeState.DEMOTED;
import static io.pgwarden.model.NodeState.DRAINING;
import static io.pgwarden.model.NodeState.FAST_FORWARD;
import static io.pgwarden.model.NodeState.PREPARE_PROMOTION;
import static io.pgwarden.model.NodeState.PRIMARY;
import static io.pgwarden.model.NodeState.REPORT_LSN;
import static io.pgwarden.model.NodeState.SECONDARY;
import static io.pgwarden.model.NodeState.WAIT_PRIMARY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgwarden.model.FormationEvent;
import org.junit.jupiter.api.Test;

/** Failovers with several standbys: who is elected, when the election must wait, how losers follow. */
class ElectionTest {

  static CoreHarness threeNodes() {
    CoreHarness h = CoreHarness.formation("a", "b", "c");
    assertEquals(PRIMARY, h.goal(1));
    assertEquals(SECONDARY, h.goal(2));
    assertEquals(SECONDARY, h.goal(3));
    return h;
  }

  static void killPrimary(CoreHarness h, int id) {
    h.with(id, s -> {
      s.up = false;
      s.pgUp = false;
    });
    for (var s : h.nodes.values()) s.streaming = s.id == id ? s.streaming : false;
  }

  @Test
  void secondQuorumStandbyRaisesNumberSyncStandbysToOne() {
    CoreHarness h = threeNodes();
    assertEquals(1, h.f.settings().numberSyncStandbys());
    assertEquals("ANY 1 (pgwarden_2, pgwarden_3)", h.sim(1).syncNames);
  }

  @Test
  void F2_E2_E3_electsTheHighestPriorityAndTheOtherFollows() {
    CoreHarness h = threeNodes();
    h.operator("set-candidate-priority", "c", 90L, false, null);
    h.converge();
    killPrimary(h, 1);
    h.until(() -> h.goal(3) == WAIT_PRIMARY, 20_000);
    assertTrue(h.rules().contains("F2-failover-start-election"), h.rules().toString());
    FormationEvent.Decided chosen = h.decisionBy("E3-candidate-chosen");
    assertTrue(chosen.reason().contains("chose c"), chosen.reason());
    h.converge();
    assertEquals(SECONDARY, h.goal(2));
    assertEquals(PRIMARY, h.goal(3));
    assertEquals(DEMOTED, h.goal(1));
    assertTrue(h.rules().contains("E1-join-secondary") || h.rules().contains("S1-report-lsn-to-secondary"),
        h.rules().toString());
  }

  @Test
  void E3_equalPrioritiesPickTheMostAdvanced() {
    CoreHarness h = threeNodes();
    h.with(3, s -> s.lsn += 1000);
    h.converge();
    killPrimary(h, 1);
    h.until(() -> h.goal(3) == PREPARE_PROMOTION || h.goal(2) == PREPARE_PROMOTION, 20_000);
    assertEquals(PREPARE_PROMOTION, h.goal(3), h.rules().toString());
  }

  @Test
  void E3_fastForwardWhenTheHighestPriorityIsBehind() {
    CoreHarness h = threeNodes();
    h.operator("set-candidate-priority", "b", 100L, false, null);
    h.converge();
    killPrimary(h, 1);
    h.with(3, s -> s.lsn += 5000);
    h.until(() -> h.goal(2) == FAST_FORWARD, 20_000);
    FormationEvent.Decided ff = h.decisionBy("E3-fast-forward");
    assertTrue(ff.reason().contains("from c"), ff.reason());
    var reply = (io.pgwarden.model.ReportReply) h.report(2);
    assertEquals(3, reply.upstream().nodeId());
    h.until(() -> h.goal(2) == WAIT_PRIMARY, 20_000);
    assertTrue(h.rules().contains("S3-fast-forward-done"));
    assertTrue(h.sim(2).lsn >= h.sim(3).lsn);
  }

  @Test
  void electionWaitsForAQuorumMemberThatMayHoldTheLastCommits() {
    CoreHarness h = threeNodes();
    // ANY 1 (b, c): an acknowledged commit may be on c alone, so b alone cannot decide
    killPrimary(h, 1);
    h.with(3, s -> {
      s.up = false;
      s.pgUp = false;
    });
    h.live(h.t.startupGraceMs() + h.t.silenceMs() * 4);
    assertTrue(h.decisions().stream().noneMatch(d -> d.rule().startsWith("E3")), h.rules().toString());
    h.with(3, s -> {
      s.up = true;
      s.pgUp = true;
    });
    h.until(() -> h.writer() != null && h.goal(h.writer()) == WAIT_PRIMARY, 20_000);
  }

  @Test
  void quorumChangeNotYetConfirmedIsReadAsTheUnionOfOldAndNew() {
    CoreHarness h = threeNodes();
    // number_sync_standbys 1 needs two quorum standbys: lower it, then c leaves the quorum. The primary
    // is told ANY 1 (b) but has not confirmed it yet.
    assertTrue(h.operator("set-replication-quorum", "c", 0L, false, null) instanceof io.pgwarden.api.ApiException);
    h.operator("set-number-sync-standbys", null, 0L, false, null);
    h.converge();
    h.operator("set-replication-quorum", "c", 0L, false, null);
    var rules = GroupRules.of(h.f, h.obs, h.t, h.mono);
    var configs = rules.possibleConfigs(h.f.member(1).orElseThrow());
    assertTrue(configs.stream().anyMatch(c -> c.members().contains(3)), "old quorum still counts: " + configs);
    assertTrue(configs.stream().anyMatch(c -> !c.members().contains(3)), "new quorum counts too: " + configs);
    assertTrue(!GroupRules.covers(configs, java.util.Set.of(2)), "b alone covers the new quorum, not the old one");
    assertTrue(GroupRules.covers(configs, java.util.Set.of(2, 3)));
  }

  @Test
  void operatorSwitchoverWithThreeNodesExcludesTheOldPrimary() {
    CoreHarness h = threeNodes();
    Object op = h.operator("switchover", null, null, false, "k1");
    assertTrue(op instanceof io.pgwarden.api.Dto.Operation, String.valueOf(op));
    assertEquals(DRAINING, h.goal(1));
    assertEquals(REPORT_LSN, h.goal(2));
    long took = h.until(() -> h.writer() != null && h.writer() != 1, 20_000);
    assertTrue(took < h.t.leaseCertainlyExpiredAfterMs(),
        "the old primary stopped, then restarted in recovery for the election: no lease wait, took " + took);
    h.until(() -> h.goal(h.writer()) == PRIMARY, 20_000);
    h.converge();
    assertEquals(SECONDARY, h.goal(1), h.goals());
    assertTrue(h.rules().contains("operator-switchover"));
  }

  @Test
  void operatorPromotionOfANamedNode() {
    CoreHarness h = threeNodes();
    h.operator("promotion", "c", null, false, null);
    h.until(() -> h.goal(3) == WAIT_PRIMARY || h.goal(3) == PRIMARY, 20_000);
    h.converge();
    assertEquals(PRIMARY, h.goal(3));
    assertEquals(SECONDARY, h.goal(1));
    assertEquals(SECONDARY, h.goal(2));
  }

  @Test
  void E0_aCandidateThatDiesIsReplacedOnlyAfterItsPermitRunsOut() {
    CoreHarness h = threeNodes();
    h.operator("set-candidate-priority", "c", 90L, false, null);
    h.converge();
    killPrimary(h, 1);
    h.until(() -> h.goal(3) == io.pgwarden.model.NodeState.STOP_REPLICATION, 20_000);
    long permitAt = h.obs.of(3).permitGrantMono(); // c was sent its permit, promoted, and died before saying so
    h.with(3, s -> {
      s.up = false;
      s.pgUp = false;
    });
    h.until(() -> h.goal(2) == PREPARE_PROMOTION || h.goal(2) == FAST_FORWARD, 30_000);
    FormationEvent.Decided e0 = h.decisionBy("E0-candidate-failed");
    assertEquals(DEMOTED, e0.goals().get(0).state());
    long e0At = h.journal.indexOf(e0);
    assertTrue(e0At > 0);
    assertTrue(h.mono - permitAt >= h.t.permitMs(), "no new candidate within the old permit's validity");
  }

  @Test
  void aQuorumChangeNotYetAppliedWhenThePrimaryDiesKeepsTheOldMembersInTheElection() {
    CoreHarness h = CoreHarness.formation("a", "b", "c", "d");
    assertEquals("ANY 1 (pgwarden_2, pgwarden_3, pgwarden_4)", h.sim(1).syncNames);
    // d leaves the quorum; the primary is told, but dies before it applies and confirms the change
    h.operator("set-replication-quorum", "d", 0L, false, null);
    killPrimary(h, 1);
    h.with(4, s -> {
      s.up = false;
      s.pgUp = false;
    });
    h.live(h.t.startupGraceMs() + h.t.silenceMs() * 4);
    assertTrue(h.rules().contains("F2-failover-start-election"), h.rules().toString());
    assertTrue(h.decisions().stream().noneMatch(d -> d.rule().startsWith("E3")),
        "d may hold the last acknowledged commit under the old quorum: the election waits for it");
    h.with(4, s -> {
      s.up = true;
      s.pgUp = true;
    });
    h.until(() -> h.writer() != null && h.goal(h.writer()) == WAIT_PRIMARY, 20_000);
  }
}
