package io.pgwarden.controller.core;

import static io.pgwarden.model.NodeState.PREPARE_PROMOTION;
import static io.pgwarden.model.NodeState.PRIMARY;
import static io.pgwarden.model.NodeState.REPORT_LSN;
import static io.pgwarden.model.NodeState.SECONDARY;
import static io.pgwarden.model.NodeState.WAIT_PRIMARY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One row per rule of the group state machine: a scenario in which that rule must fire. The last test
 * checks that the table names every rule the state machine has.
 */
class RuleTableTest {

  static Map<String, Supplier<CoreHarness>> table() {
    Map<String, Supplier<CoreHarness>> t = new TreeMap<>();
    t.put("G1-single-node", RuleTableTest::standbyDropped);
    t.put("G1-single-node-report-lsn", RuleTableTest::lonePriorityZeroNode);
    t.put("P1-single-to-wait-primary", () -> CoreHarness.formation("a", "b"));
    t.put("P2-standby-unhealthy", RuleTableTest::oneOfTwoStandbysLost);
    t.put("P2-primary-to-wait-primary", RuleTableTest::standbyLost);
    t.put("P2-wait-primary-to-primary", () -> CoreHarness.formation("a", "b"));
    t.put("P2-apply-settings-done", RuleTableTest::quorumFlagChange);
    t.put("P2-sync-drift", RuleTableTest::quorumFlagChange);
    t.put("F1-failover-two-nodes", RuleTableTest::twoNodeFailover);
    t.put("F2-failover-start-election", RuleTableTest::threeNodeFailover);
    t.put("E0-candidate-failed", RuleTableTest::candidateDies);
    t.put("E1-join-secondary", RuleTableTest::threeNodeFailover);
    t.put("E2-report-lsn", RuleTableTest::candidateDies);
    t.put("E3-candidate-chosen", RuleTableTest::threeNodeFailover);
    t.put("E3-fast-forward", RuleTableTest::fastForward);
    t.put("S1-report-lsn-to-secondary", RuleTableTest::asyncStandbyLateToTheElection);
    t.put("S3-fast-forward-done", RuleTableTest::fastForward);
    t.put("S5-wait-standby-to-catchingup", () -> CoreHarness.formation("a", "b"));
    t.put("S6-wait-standby-to-catchingup", () -> CoreHarness.formation("a", "b", "c"));
    t.put("S8-catchingup-to-secondary", () -> CoreHarness.formation("a", "b"));
    t.put("S10-wait-maintenance-done", RuleTableTest::standbyMaintenance);
    t.put("S12-promote-for-maintenance", RuleTableTest::primaryMaintenance);
    t.put("S14-promote", RuleTableTest::twoNodeFailover);
    t.put("S15-promote-no-primary", RuleTableTest::primaryDroppedMidFailover);
    t.put("S16-maintenance-handover", RuleTableTest::primaryMaintenance);
    t.put("S17-open-writes", RuleTableTest::twoNodeFailover);
    t.put("S17-open-writes-no-primary", RuleTableTest::primaryDroppedMidFailover);
    t.put("S18-demotion-done", SimulationFindingsTest::oldPrimaryReturnsAfterALostFailoverTail);
    t.put("S19-demoted-to-catchingup", RuleTableTest::oldPrimaryReturns);
    t.put("S20-join-secondary-done", RuleTableTest::threeNodeFailover);
    t.put("S21-goal-without-a-path", () -> {
      CoreHarness h = SimulationFindingsTest.aStandbyToldJoinSecondaryAfterALostTail();
      h.converge();
      return h;
    });
    return t;
  }

  static Stream<Arguments> rows() {
    return table().entrySet().stream().map(e -> Arguments.of(e.getKey(), e.getValue()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rows")
  void ruleFires(String rule, Supplier<CoreHarness> scenario) {
    CoreHarness h = scenario.get();
    assertTrue(h.rules().contains(rule), rule + " did not fire; fired: " + h.rules());
  }

  @Test
  void everyRuleHasARow() {
    Set<String> missing = new TreeSet<>(GroupRules.RULES);
    missing.removeAll(table().keySet());
    assertEquals(Set.of(), missing, "rules without a scenario");
  }

  // ------------------------------------------------------------------ scenarios

  static void kill(CoreHarness h, int id) {
    h.with(id, s -> {
      s.up = false;
      s.pgUp = false;
    });
    for (var s : h.nodes.values()) {
      if (s.id != id) s.streaming = false;
    }
  }

  static void revive(CoreHarness h, int id) {
    h.with(id, s -> {
      s.up = true;
      s.pgUp = true;
    });
    for (var s : h.nodes.values()) s.streaming = true;
  }

  static CoreHarness lonePriorityZeroNode() {
    CoreHarness h = CoreHarness.formation("a");
    h.register("b", 0, true);
    h.converge();
    h.operator("drop-node", "a", null, true, null);
    h.converge();
    assertEquals(REPORT_LSN, h.goal(2));
    return h;
  }

  static CoreHarness standbyDropped() {
    CoreHarness h = CoreHarness.formation("a", "b");
    h.operator("drop-node", "b", null, false, null);
    h.converge();
    return h;
  }

  /** With number_sync_standbys 1 and two quorum standbys, losing one keeps the primary synchronous. */
  static CoreHarness oneOfTwoStandbysLost() {
    CoreHarness h = CoreHarness.formation("a", "b", "c");
    kill(h, 3);
    h.until(() -> h.goal(3) == io.pgwarden.model.NodeState.CATCHINGUP, 10_000);
    assertEquals(PRIMARY, h.goal(1));
    return h;
  }

  /** An asynchronous standby silent during the election reports its LSN after writes reopened. */
  static CoreHarness asyncStandbyLateToTheElection() {
    CoreHarness h = CoreHarness.formation("a", "b", "c");
    h.operator("set-number-sync-standbys", null, 0L, false, null);
    h.converge();
    h.operator("set-replication-quorum", "c", 0L, false, null);
    h.converge();
    kill(h, 1);
    h.until(() -> h.goal(3) == REPORT_LSN, 20_000);
    h.with(3, s -> s.up = false);
    h.until(() -> h.writer() != null && h.writer() == 2 && h.sim(2).state == WAIT_PRIMARY, 20_000);
    h.with(3, s -> s.up = true);
    h.converge();
    assertEquals(SECONDARY, h.goal(3));
    return h;
  }

  static CoreHarness standbyLost() {
    CoreHarness h = CoreHarness.formation("a", "b");
    kill(h, 2);
    h.until(() -> h.goal(1) == WAIT_PRIMARY, 10_000);
    return h;
  }

  static CoreHarness quorumFlagChange() {
    CoreHarness h = CoreHarness.formation("a", "b", "c");
    h.operator("set-number-sync-standbys", null, 0L, false, null);
    h.converge();
    h.operator("set-replication-quorum", "c", 0L, false, null);
    h.converge();
    return h;
  }

  static CoreHarness twoNodeFailover() {
    CoreHarness h = CoreHarness.formation("a", "b");
    kill(h, 1);
    h.until(() -> h.goal(2) == WAIT_PRIMARY, 10_000);
    return h;
  }

  static CoreHarness oldPrimaryReturns() {
    CoreHarness h = twoNodeFailover();
    revive(h, 1);
    h.converge();
    assertEquals(SECONDARY, h.goal(1));
    return h;
  }

  static CoreHarness threeNodeFailover() {
    CoreHarness h = CoreHarness.formation("a", "b", "c");
    kill(h, 1);
    h.until(() -> h.writer() != null && h.writer() != 1, 20_000);
    h.converge();
    return h;
  }

  static CoreHarness threeNodeSwitchover() {
    CoreHarness h = CoreHarness.formation("a", "b", "c");
    h.operator("switchover", null, null, false, null);
    h.until(() -> h.writer() != null && h.writer() != 1, 20_000);
    h.converge();
    return h;
  }

  static CoreHarness fastForward() {
    CoreHarness h = CoreHarness.formation("a", "b", "c");
    h.operator("set-candidate-priority", "b", 100L, false, null);
    h.converge();
    kill(h, 1);
    h.with(3, s -> s.lsn += 5000);
    h.until(() -> h.goal(2) == WAIT_PRIMARY, 20_000);
    return h;
  }

  static CoreHarness candidateDies() {
    CoreHarness h = CoreHarness.formation("a", "b", "c");
    h.operator("set-candidate-priority", "c", 90L, false, null);
    h.converge();
    kill(h, 1);
    h.until(() -> h.goal(3) == io.pgwarden.model.NodeState.STOP_REPLICATION, 20_000);
    h.with(3, s -> {
      s.up = false;
      s.pgUp = false;
    });
    h.until(() -> h.goal(2) == PREPARE_PROMOTION || h.goal(2) == io.pgwarden.model.NodeState.FAST_FORWARD, 30_000);
    return h;
  }

  static CoreHarness standbyMaintenance() {
    CoreHarness h = CoreHarness.formation("a", "b");
    h.operator("maintenance-on", "b", null, false, null);
    h.converge();
    return h;
  }

  static CoreHarness primaryMaintenance() {
    CoreHarness h = CoreHarness.formation("a", "b");
    h.operator("maintenance-on", "a", null, true, null);
    h.converge();
    return h;
  }

  /** The old primary is dropped by force while the chosen standby waits to promote. */
  static CoreHarness primaryDroppedMidFailover() {
    CoreHarness h = CoreHarness.formation("a", "b", "c");
    kill(h, 1);
    h.until(() -> h.goal(2) == PREPARE_PROMOTION || h.goal(3) == PREPARE_PROMOTION, 20_000);
    long grant = h.obs.of(1).lastGrantMono();
    h.operator("drop-node", "a", null, true, null);
    h.until(() -> h.writer() != null, 10_000);
    assertTrue(h.mono - grant >= h.t.leaseCertainlyExpiredAfterMs(), "a removed node's lease still counts");
    return h;
  }

  static List<String> names() {
    return List.copyOf(table().keySet());
  }
}
