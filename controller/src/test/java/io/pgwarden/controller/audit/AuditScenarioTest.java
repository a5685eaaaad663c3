package io.pgwarden.controller.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgwarden.controller.audit.AuditReport.Finding;
import io.pgwarden.controller.audit.AuditReport.FormationSnapshot;
import io.pgwarden.controller.audit.AuditReport.Incident;
import io.pgwarden.controller.audit.AuditReport.NodeSnapshot;
import io.pgwarden.controller.audit.AuditReport.Phase;
import io.pgwarden.controller.audit.AuditReport.WritablePeriod;
import io.pgwarden.controller.core.AuditScenarios;
import io.pgwarden.controller.core.AuditScenarios.Recording;
import io.pgwarden.controller.core.AuditScenarios.Snapshot;
import io.pgwarden.model.FormationEvent;
import io.pgwarden.model.NodeState;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The audit of journals the real decision core produced, driven by the CoreHarness's idealised keepers. */
class AuditScenarioTest {

  static AuditReport audit(Recording r) {
    return AuditReplay.replay(r.formation(), r.events(), AuditQuery.all().timing(r.timing()));
  }

  static FormationEvent.Decided decision(Recording r, String rule, int nth) {
    return r.events().stream().map(RecordedEvent::event).filter(e -> e instanceof FormationEvent.Decided d
        && d.rule().equals(rule)).map(e -> (FormationEvent.Decided) e).skip(nth).findFirst()
        .orElseThrow(() -> new AssertionError("no decision " + rule + " #" + nth + " in " + r.rules()));
  }

  static List<Incident> incidents(AuditReport a, String kind) {
    return a.incidents().stream().filter(i -> i.kind().equals(kind)).toList();
  }

  /** No finding that is not explained by a node being down. */
  static void noAnomalies(AuditReport a) {
    List<Finding> bad = a.findings().stream().filter(f -> !f.severity().equals("info")).toList();
    assertTrue(bad.isEmpty(), "unexpected findings: " + bad + "\n" + AuditText.render(a));
  }

  /** Phases appear in this relative order (others may come in between), at non-decreasing instants. */
  static void inOrder(Incident i, String... names) {
    List<String> got = i.phaseNames();
    int pos = -1;
    for (String n : names) {
      int at = got.indexOf(n);
      assertTrue(at >= 0, "phase " + n + " missing from " + got);
      assertTrue(at > pos, "phase " + n + " out of order in " + got);
      pos = at;
    }
    long prev = Long.MIN_VALUE;
    for (Phase p : i.phases()) {
      assertTrue(p.at() >= prev, "phases not in time order: " + got);
      assertEquals(p.at() - i.startedAt(), p.offsetMs());
      prev = p.at();
    }
  }

  /** stateAt(T) says what the harness said at T, for every snapshot taken while the scenario ran. */
  static void stateMatchesHarness(Recording r) {
    assertFalse(r.snapshots().isEmpty(), "the scenario recorded no snapshot");
    for (Snapshot s : r.snapshots()) {
      FormationSnapshot st = AuditReplay.stateAt(r.formation(), r.events(), s.at());
      String where = "at snapshot " + s.label();
      assertTrue(st.exists(), where);
      assertEquals(s.term(), st.term(), where + ": term");
      assertEquals(s.writer(), st.primaryNodeId(), where + ": primary");
      assertEquals(s.settings(), st.settings(), where + ": formation settings");
      assertEquals(s.goals().keySet(), st.nodes().stream().map(NodeSnapshot::nodeId).collect(
          java.util.stream.Collectors.toSet()), where + ": nodes");
      for (Map.Entry<Integer, NodeState> g : s.goals().entrySet()) {
        NodeSnapshot n = st.node(g.getKey());
        assertEquals(g.getValue(), n.goal(), where + ": goal of node " + g.getKey());
        assertEquals(s.reported().get(g.getKey()), n.reported(), where + ": reported state of node " + g.getKey());
        assertEquals(s.nodeSettings().get(g.getKey()), n.settings(), where + ": settings of node " + g.getKey());
      }
    }
  }

  @Test
  void twoNodeFailover_primariesPhasesRiskAndRewind() {
    Recording r = AuditScenarios.twoNodeFailover(8192);
    AuditReport a = audit(r);
    long lease = r.timing().leaseCertainlyExpiredAfterMs();

    // (a) who was writable, and until when
    assertEquals(2, a.primaries().size(), a.primaries().toString());
    WritablePeriod pa = a.primaries().get(0);
    WritablePeriod pb = a.primaries().get(1);
    assertEquals(1, pa.nodeId());
    assertEquals("F1-failover-two-nodes", pa.closedBy());
    assertEquals(decision(r, "F1-failover-two-nodes", 0).at(), pa.goalUntil());
    assertEquals("lease", pa.untilBasis());
    assertEquals(r.mark("last-grant-a"), pa.lastGrantAt(), "the last report a was answered with a lease");
    assertEquals(r.mark("last-grant-a") + lease, pa.until());
    assertEquals(2, pb.nodeId());
    assertEquals("S17-open-writes", pb.openedBy());
    assertTrue(pb.open());
    assertTrue(pb.from() >= pa.until(), "b writable only after a's lease certainly ended");
    assertTrue(pb.term() > pa.term());

    // (b) the incident
    List<Incident> fo = incidents(a, "automatic-failover");
    assertEquals(1, fo.size(), a.incidents().toString());
    Incident i = fo.get(0);
    assertEquals("complete", i.status());
    assertEquals(1, i.nodeId());
    assertEquals(2, i.newPrimaryId());
    inOrder(i, "primary_last_heard", "detected", "candidate_chosen", "old_primary_stopped", "promotion_permitted",
        "promoted", "writes_reopened", "new_primary_writable", "rejoin_started", "rewound", "rejoined");
    assertEquals(r.mark("last-grant-a"), i.phase("primary_last_heard").at());
    assertEquals(decision(r, "F1-failover-two-nodes", 0).at(), i.phase("detected").at());
    assertEquals(decision(r, "F1-failover-two-nodes", 0).at(), i.startedAt());
    assertEquals(decision(r, "S14-promote", 0).at(), i.phase("promotion_permitted").at());
    assertEquals(decision(r, "S17-open-writes", 0).at(), i.phase("writes_reopened").at());
    assertEquals(decision(r, "S19-demoted-to-catchingup", 0).at(), i.phase("rejoin_started").at());
    assertEquals(decision(r, "S8-catchingup-to-secondary", 1).at(), i.phase("rejoined").at());
    assertEquals(pa.until(), i.phase("old_primary_stopped").at());
    assertTrue(i.phase("promotion_permitted").at() >= i.phase("old_primary_stopped").at());
    assertEquals(2, i.phase("candidate_chosen").nodeId());
    assertEquals(i.phase("detected").at() - i.phase("primary_last_heard").at(), i.detectionMs());
    assertEquals(i.phase("writes_reopened").at() - i.phase("primary_last_heard").at(), i.writeOutageMs());
    assertEquals("failure", i.trigger().kind());
    assertEquals("controller-probe", i.trigger().observer());
    assertTrue(i.trigger().cause().contains("keeper silent"), i.trigger().cause());
    assertEquals("F1-failover-two-nodes", i.trigger().rule());
    assertEquals(1, i.trigger().failedNode().nodeId());
    assertEquals(0L, i.walAtRiskBytes());
    assertEquals(8192L, i.bytesDiscarded());
    assertEquals("pg_rewind", i.rejoinMethod());
    assertTrue(i.phase("rewound").detail().contains("8192"));

    // the host loss itself, linked to the failover, and its return
    List<Incident> loss = incidents(a, "node-loss");
    assertEquals(1, loss.size(), a.incidents().toString());
    assertEquals(List.of(i.id()), loss.get(0).related());
    assertEquals("controller-probe", loss.get(0).trigger().observer());
    inOrder(loss.get(0), "lost", "returned");

    // a down node never reaching its goals is explained, not an anomaly
    noAnomalies(a);
    assertTrue(a.findings().stream().allMatch(f -> f.kind().equals("goal-not-reached") && f.nodeIds().equals(
        List.of(1))), a.findings().toString());
    stateMatchesHarness(r);
  }

  @Test
  void stateAtDuringTheFailoverShowsTheLeaseStillRunning() {
    Recording r = AuditScenarios.twoNodeFailover(0);
    long lease = r.timing().leaseCertainlyExpiredAfterMs();
    long grant = r.mark("last-grant-a");
    FormationSnapshot before = AuditReplay.stateAt("f", r.events(), r.mark("detected") - 1);
    assertEquals(1, before.primaryNodeId());
    FormationSnapshot during = AuditReplay.stateAt("f", r.events(), grant + lease - 1);
    assertNull(during.primaryNodeId(), "a's goal is taken away, b's not writable yet");
    assertEquals(List.of(1), during.leaseMayRun());
    assertEquals(NodeState.PREPARE_PROMOTION, during.node(2).goal());
    assertEquals(Boolean.FALSE, during.node(1).healthy());
    FormationSnapshot after = AuditReplay.stateAt("f", r.events(), r.mark("writes-open"));
    assertEquals(2, after.primaryNodeId());
    assertEquals(List.of(2), after.leaseMayRun());
    FormationSnapshot empty = AuditReplay.stateAt("f", r.events(), r.events().get(0).at() - 1);
    assertFalse(empty.exists());
    assertTrue(empty.nodes().isEmpty());
  }

  @Test
  void asynchronousFailoverJournalsTheWalAtRisk() {
    Recording r = AuditScenarios.asyncFailoverWithRisk(4096);
    AuditReport a = audit(r);
    Incident i = incidents(a, "automatic-failover").get(0);
    assertEquals(4096L, i.walAtRiskBytes());
    assertNull(i.bytesDiscarded(), "no rewind journaled");
    assertEquals("writes-reopened", i.status(), "the old primary never came back");
    assertNull(i.endedAt());
    noAnomalies(a);
    stateMatchesHarness(r);
  }

  @Test
  void switchoverAndBack() {
    Recording r = AuditScenarios.switchoverAndBack();
    AuditReport a = audit(r);
    assertEquals(List.of(1, 2, 1), a.primaries().stream().map(WritablePeriod::nodeId).toList());
    List<Incident> sw = incidents(a, "switchover");
    assertEquals(2, sw.size(), a.incidents().toString());
    assertEquals(a.incidents().size(), 2, "the planned stops are phases of the switchovers, not node losses");
    for (int k = 0; k < 2; k++) {
      Incident i = sw.get(k);
      assertEquals("complete", i.status());
      assertEquals("operator", i.trigger().kind());
      assertEquals("alice", i.trigger().who());
      assertEquals("test", i.trigger().reason());
      assertEquals(k == 0 ? "s1" : "s2", i.trigger().idempotencyKey());
      assertNull(i.trigger().observer());
      assertEquals(r.mark(k == 0 ? "switchover-1" : "switchover-2"), i.startedAt());
      assertEquals(decision(r, "operator-switchover", k).at(), i.phase("requested").at());
      inOrder(i, "requested", "candidate_chosen", "promotion_permitted", "writes_reopened", "rejoin_started",
          "rejoined");
      assertTrue(i.phase("old_primary_stopped").detail().contains("reported draining"));
      assertEquals(0L, i.walAtRiskBytes());
      assertTrue(i.writeOutageMs() < r.timing().leaseCertainlyExpiredAfterMs(),
          "a clean switchover does not wait for a lease: " + i.writeOutageMs());
      assertNotNull(i.phase("node_down"));
    }
    assertEquals(1, sw.get(0).nodeId());
    assertEquals(2, sw.get(0).newPrimaryId());
    assertEquals(2, sw.get(1).nodeId());
    assertEquals(1, sw.get(1).newPrimaryId());
    assertEquals("reported draining", a.primaries().get(0).untilBasis());
    assertTrue(a.findings().isEmpty(), a.findings().toString());
    stateMatchesHarness(r);
  }

  @Test
  void threeNodeElection() {
    Recording r = AuditScenarios.threeNodeElection(12_345);
    AuditReport a = audit(r);
    assertEquals(List.of(1, 3), a.primaries().stream().map(WritablePeriod::nodeId).toList());
    Incident i = incidents(a, "automatic-failover").get(0);
    assertEquals(3, i.newPrimaryId());
    inOrder(i, "primary_last_heard", "detected", "election_started", "candidate_chosen", "promotion_permitted",
        "writes_reopened", "rejoin_started", "rewound", "rejoined");
    Phase chosen = i.phase("candidate_chosen");
    assertEquals(3, chosen.nodeId());
    assertEquals("E3-candidate-chosen", chosen.rule());
    assertTrue(chosen.detail().contains("chose c (priority 90"), chosen.detail());
    assertEquals(decision(r, "E3-candidate-chosen", 0).at(), chosen.at());
    assertEquals("F2-failover-start-election", i.trigger().rule());
    assertEquals(0L, i.walAtRiskBytes());
    assertEquals(12_345L, i.bytesDiscarded());
    assertEquals("complete", i.status());
    noAnomalies(a);
    stateMatchesHarness(r);
  }

  @Test
  void maintenanceOfTheStandbyThenOfThePrimary() {
    Recording r = AuditScenarios.maintenance();
    AuditReport a = audit(r);
    List<Incident> m = incidents(a, "maintenance");
    assertEquals(2, m.size(), a.incidents().toString());
    Incident standby = m.get(0);
    assertEquals(2, standby.nodeId());
    assertNull(standby.newPrimaryId());
    assertNull(standby.writeOutageMs(), "writes never stopped");
    assertEquals("m1", standby.trigger().idempotencyKey());
    inOrder(standby, "requested", "maintenance_entered", "maintenance_ended", "rejoined");
    assertEquals("complete", standby.status());
    Incident primary = m.get(1);
    assertEquals(1, primary.nodeId());
    assertEquals(2, primary.newPrimaryId());
    inOrder(primary, "requested", "candidate_chosen", "promotion_permitted", "writes_reopened",
        "maintenance_entered", "maintenance_ended", "rejoined");
    assertEquals("S12-promote-for-maintenance", primary.phase("promotion_permitted").rule());
    assertEquals("S16-maintenance-handover", primary.phase("writes_reopened").rule());
    assertEquals("operator-maintenance-off", primary.phase("maintenance_ended").rule());
    assertEquals("complete", primary.status());
    assertEquals(List.of(1, 2), a.primaries().stream().map(WritablePeriod::nodeId).toList());
    assertTrue(a.findings().isEmpty(), a.findings().toString());
    stateMatchesHarness(r);
  }

  @Test
  void standbyLossAndReturn() {
    Recording r = AuditScenarios.standbyLoss();
    AuditReport a = audit(r);
    List<Incident> loss = incidents(a, "node-loss");
    assertEquals(1, loss.size(), a.incidents().toString());
    Incident i = loss.get(0);
    assertEquals(2, i.nodeId());
    inOrder(i, "lost", "goal_changed", "returned");
    assertEquals("P2-primary-to-wait-primary", i.phase("goal_changed").rule());
    assertTrue(i.trigger().cause().contains("keeper silent"), i.trigger().cause());
    assertEquals(List.of(1), a.primaries().stream().map(WritablePeriod::nodeId).toList(), "no failover");
    noAnomalies(a);
    stateMatchesHarness(r);
  }

  @Test
  void repeatedCyclesStayClean() {
    Recording r = AuditScenarios.cycles(6);
    AuditReport a = audit(r);
    assertEquals(3, incidents(a, "automatic-failover").size(), AuditText.render(a));
    assertEquals(3, incidents(a, "switchover").size());
    assertEquals(7, a.primaries().size());
    long discarded = incidents(a, "automatic-failover").stream().mapToLong(Incident::bytesDiscarded).sum();
    assertEquals(4096L * (1 + 3 + 5), discarded);
    assertTrue(a.incidents().stream().filter(i -> !i.kind().equals("node-loss"))
        .allMatch(i -> i.status().equals("complete")), AuditText.render(a));
    noAnomalies(a);
  }
}
