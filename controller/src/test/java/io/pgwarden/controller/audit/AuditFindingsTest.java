package io.pgwarden.controller.audit;

import static io.pgwarden.model.NodeState.CATCHINGUP;
import static io.pgwarden.model.NodeState.DEMOTED;
import static io.pgwarden.model.NodeState.DEMOTE_TIMEOUT;
import static io.pgwarden.model.NodeState.DRAINING;
import static io.pgwarden.model.NodeState.PREPARE_PROMOTION;
import static io.pgwarden.model.NodeState.SECONDARY;
import static io.pgwarden.model.NodeState.STOP_REPLICATION;
import static io.pgwarden.model.NodeState.WAIT_PRIMARY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgwarden.controller.audit.AuditReport.Finding;
import io.pgwarden.controller.audit.AuditReport.WritablePeriod;
import io.pgwarden.model.FormationEvent.FailoverContext;
import io.pgwarden.model.NodeEvent;
import io.pgwarden.model.RejoinInfo;
import io.pgwarden.model.Requester;
import io.pgwarden.model.TermSeq;
import io.pgwarden.model.Timing;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Hand-built histories with what should never happen in them: the audit flags each, and nothing else. */
class AuditFindingsTest {
  static final long LEASE = Timing.DEFAULT.leaseCertainlyExpiredAfterMs();

  static List<Finding> of(AuditReport a, String kind) {
    return a.findings().stream().filter(f -> f.kind().equals(kind)).toList();
  }

  static Finding only(AuditReport a, String kind) {
    List<Finding> l = of(a, kind);
    assertEquals(1, l.size(), "findings " + kind + ": " + a.findings());
    return l.get(0);
  }

  @Test
  void aCleanHistoryHasNoFinding() {
    AuditReport a = JournalBuilder.primaryAndStandby().audit();
    assertTrue(a.findings().isEmpty(), a.findings().toString());
    assertEquals(1, a.primaries().size());
    assertTrue(a.primaries().get(0).open());
  }

  @Test
  void twoWritableGoalsAtOnceAreCritical() {
    JournalBuilder j = JournalBuilder.primaryAndStandby();
    long t = j.plus(1_000).now;
    j.decide("bogus-rule", true, 2, WAIT_PRIMARY); // a keeps its primary goal
    j.plus(500).reach(2, WAIT_PRIMARY);
    AuditReport a = j.audit();
    Finding f = only(a, "overlapping-writers");
    assertEquals("critical", f.severity());
    assertEquals(List.of(1, 2), f.nodeIds());
    assertEquals(t, f.at());
    assertNull(f.until(), "both still writable at the end");
    assertTrue(f.message().contains("two writable goals at once"), f.message());
    assertTrue(AuditText.render(a).contains("[critical] overlapping-writers"));
  }

  /** a's goal is taken away at t; its last report was 100 ms earlier, so its lease runs until t - 100 + L'. */
  static JournalBuilder failoverOpeningWritesAfter(long ms, boolean withFacts) {
    JournalBuilder j = JournalBuilder.primaryAndStandby();
    j.plus(5_000);
    j.decide("F1-failover-two-nodes", true, withFacts ? List.of(JournalBuilder.facts(1, 100L),
            JournalBuilder.facts(2, 50L)) : List.of(), 0L, Requester.CONTROLLER,
        new FailoverContext("automatic", 1, null, "keeper silent"), 1, DRAINING, 2, PREPARE_PROMOTION);
    j.plus(100).reach(2, PREPARE_PROMOTION);
    j.plus(ms - 200).decide("S14-promote", false, 2, STOP_REPLICATION, 1, DEMOTE_TIMEOUT);
    j.plus(100).reach(2, STOP_REPLICATION).decide("S17-open-writes", true, 2, WAIT_PRIMARY, 1, DEMOTED);
    return j;
  }

  @Test
  void writesOpenedBeforeTheOldLeaseEndedAreCritical() {
    JournalBuilder j = failoverOpeningWritesAfter(1_000, true);
    AuditReport a = j.audit();
    WritablePeriod old = a.primaries().get(0);
    assertEquals("lease", old.untilBasis());
    assertEquals(old.goalUntil() - 100, old.lastGrantAt());
    assertEquals(old.lastGrantAt() + LEASE, old.until());
    Finding f = only(a, "overlapping-writers");
    assertEquals("critical", f.severity());
    assertEquals(old.goalUntil() + 1_000, f.at());
    assertEquals(old.until(), f.until());
    assertTrue(f.message().contains("could still write until"), f.message());
  }

  @Test
  void writesOpenedAfterTheOldLeaseEndedAreFine() {
    AuditReport a = failoverOpeningWritesAfter(LEASE, true).audit();
    assertTrue(of(a, "overlapping-writers").isEmpty(), a.findings().toString());
    assertEquals(a.primaries().get(0).until(), a.incidents().get(0).phase("old_primary_stopped").at());
  }

  @Test
  void withoutTheReportAgeTheBoundCountsFromTheDecisionAndTheOverlapIsAWarning() {
    AuditReport a = failoverOpeningWritesAfter(LEASE - 50, false).audit();
    WritablePeriod old = a.primaries().get(0);
    assertEquals("lease-upper-bound", old.untilBasis());
    assertEquals(old.goalUntil() + LEASE, old.until());
    assertEquals("warning", only(a, "overlapping-writers").severity());
  }

  @Test
  void aFencedOrStoppedOldPrimaryEndsItsPeriodEarly() {
    JournalBuilder j = JournalBuilder.primaryAndStandby();
    j.plus(5_000).decide("F1-failover-two-nodes", true, List.of(JournalBuilder.facts(1, 100L)), 0L,
        Requester.CONTROLLER, new FailoverContext("automatic", 1, null, "probe failing"), 1, DRAINING, 2,
        PREPARE_PROMOTION);
    long closed = j.now;
    j.plus(300).node(1, new NodeEvent.Fenced(j.term, j.now));
    j.plus(200).decide("S14-promote", false, 2, STOP_REPLICATION);
    j.plus(100).decide("S17-open-writes", true, 2, WAIT_PRIMARY);
    AuditReport a = j.audit();
    WritablePeriod old = a.primaries().get(0);
    assertEquals("fenced", old.untilBasis());
    assertEquals(closed + 300, old.until());
    assertTrue(of(a, "overlapping-writers").isEmpty(), a.findings().toString());

    JournalBuilder k = JournalBuilder.primaryAndStandby();
    k.plus(5_000).decide("operator-switchover", true, List.of(), 0L, new Requester("bob", "patching", "k1"),
        new FailoverContext("switchover", 1, null, "operator bob: patching"), 1, DRAINING, 2, PREPARE_PROMOTION);
    k.plus(150).reach(1, DRAINING);
    AuditReport b = k.audit();
    assertEquals("reported draining", b.primaries().get(0).untilBasis());
    assertEquals(k.now, b.primaries().get(0).until());
    assertEquals("bob", b.incidents().get(0).trigger().who());
    assertEquals("in-progress", b.incidents().get(0).status());
  }

  @Test
  void aGoalSupersededBeforeItWasReachedIsFlagged() {
    JournalBuilder j = JournalBuilder.primaryAndStandby();
    long t = j.plus(1_000).now;
    j.decide("P2-standby-unhealthy", false, 2, CATCHINGUP);
    j.plus(1_000).decide("some-rule", false, 2, SECONDARY);
    j.plus(100).reach(2, SECONDARY);
    AuditReport a = j.audit();
    Finding f = only(a, "goal-not-reached");
    assertEquals("warning", f.severity(), "the node was healthy");
    assertEquals(List.of(2), f.nodeIds());
    assertEquals(t, f.at());
    assertEquals(t + 1_000, f.until());
    assertTrue(f.message().contains("catchingup") && f.message().contains("superseded by secondary"), f.message());
  }

  @Test
  void aGoalReachedByAReportAtTheInstantItIsSupersededIsNotFlagged() {
    JournalBuilder j = JournalBuilder.primaryAndStandby();
    j.plus(1_000).decide("P2-standby-unhealthy", false, 2, CATCHINGUP);
    j.plus(1_000).decide("S8-catchingup-to-secondary", false, 2, SECONDARY);
    // the report that made the decision is journaled in the node's stream at the same instant
    j.events.add(RecordedEvent.ofNode("f", 2, j.nodeSeq.merge(2, 1L, Long::sum), new NodeEvent.StateReached(
        CATCHINGUP, new TermSeq(j.term, j.seq - 1), 1, io.pgwarden.model.Lsn.ZERO, j.now)));
    j.plus(100).reach(2, SECONDARY);
    assertTrue(j.audit().findings().isEmpty(), j.audit().findings().toString());
  }

  @Test
  void aGoalStillPendingBeyondTheBoundIsFlagged() {
    JournalBuilder j = JournalBuilder.primaryAndStandby();
    long t = j.plus(1_000).now;
    j.decide("P2-standby-unhealthy", false, 2, CATCHINGUP);
    AuditReport within = j.audit(AuditQuery.all().now(t + 30_000));
    assertTrue(within.findings().isEmpty(), within.findings().toString());
    AuditReport beyond = j.audit(AuditQuery.all().now(t + 61_000));
    Finding f = only(beyond, "goal-pending");
    assertEquals("warning", f.severity());
    assertTrue(f.message().contains("1 min 01 s later"), f.message());
    j.plus(10).health(2, false, "controller-probe", "keeper silent");
    assertEquals("info", only(j.audit(AuditQuery.all().now(t + 61_000)), "goal-pending").severity(),
        "explained by the node being down");
  }

  @Test
  void aNodeStuckInAnIntermediateStateIsFlagged() {
    JournalBuilder j = JournalBuilder.primaryAndStandby();
    j.plus(1_000).decide("P2-standby-unhealthy", false, 2, CATCHINGUP).plus(100).reach(2, CATCHINGUP);
    long since = j.now;
    j.plus(400_000).decide("S8-catchingup-to-secondary", false, 2, SECONDARY).plus(100).reach(2, SECONDARY);
    Finding f = only(j.audit(), "stuck-state");
    assertEquals(since, f.at());
    assertEquals(List.of(2), f.nodeIds());
    assertTrue(f.message().contains("stayed in catchingup for 6 min 40 s"), f.message());
    // and one still stuck at the end
    JournalBuilder k = JournalBuilder.primaryAndStandby();
    k.plus(1_000).decide("P2-standby-unhealthy", false, 2, CATCHINGUP).plus(100).reach(2, CATCHINGUP);
    Finding g = only(k.audit(AuditQuery.all().now(k.now + 301_000)), "stuck-state");
    assertTrue(g.message().contains("still does"), g.message());
    assertTrue(k.audit(AuditQuery.all().now(k.now + 10_000)).findings().isEmpty());
  }

  @Test
  void reportAnomaliesAreFlagged() {
    JournalBuilder j = JournalBuilder.primaryAndStandby();
    j.plus(1_000).node(2, new NodeEvent.ReportRejected("lsn-backwards", "0/5000060 after 0/6000000", j.now));
    Finding f = only(j.audit(), "report-rejected");
    assertEquals("warning", f.severity());
    assertTrue(f.message().contains("lsn-backwards"));
  }

  @Test
  void fencedWhileWritableRewindOutsideFailoverAndUnknownNodesAreFlagged() {
    JournalBuilder j = JournalBuilder.primaryAndStandby();
    j.plus(1_000).node(1, new NodeEvent.Fenced(j.term, j.now));
    j.plus(1_000).node(2, new NodeEvent.Rewound(new RejoinInfo(new TermSeq(2, 3), "pg_rewind", 512, 1, 2), j.now));
    j.plus(1_000).node(7, new NodeEvent.StateReached(SECONDARY, TermSeq.NONE, 1, io.pgwarden.model.Lsn.ZERO, j.now));
    AuditReport a = j.audit();
    assertEquals("warning", only(a, "fenced-while-writable").severity());
    assertTrue(only(a, "rewind-outside-failover").message().contains("512"));
    assertEquals(List.of(7), only(a, "unknown-node").nodeIds());
  }

  @Test
  void clockRegressionAndMissingEventsAreFlagged() {
    JournalBuilder j = JournalBuilder.primaryAndStandby();
    j.plus(1_000).reach(2, SECONDARY);
    j.node(2, new NodeEvent.HealthChanged(true, "keeper-report", "healthy", j.now - 500));
    j.nodeSeq.merge(2, 3L, Long::sum); // three of b's events are lost
    j.plus(100).health(2, false, "controller-probe", "keeper silent");
    AuditReport a = j.audit();
    Finding c = only(a, "clock-regression");
    assertTrue(c.message().contains("500 ms before"), c.message());
    Finding g = only(a, "sequence-gap");
    assertTrue(g.message().contains("node|f|2"), g.message());
  }

  @Test
  void mergeOrdersByTimeThenPersistenceIdThenSequenceAndKeepsEachStreamsOrder() {
    JournalBuilder j = JournalBuilder.primaryAndStandby();
    JournalBuilder other = JournalBuilder.primaryAndStandby();
    List<RecordedEvent> all = new java.util.ArrayList<>(j.events);
    for (RecordedEvent e : other.events) {
      all.add(new RecordedEvent(e.persistenceId().replace("|f", "|g"), e.sequenceNr(), e.event()));
    }
    java.util.Collections.shuffle(all, new java.util.Random(7));
    List<RecordedEvent> merged = new java.util.ArrayList<>();
    AuditReplay.merge(AuditReplay.streams("f", all)).forEachRemaining(merged::add);
    assertEquals(j.events.size(), merged.size(), "formation g's events are left out");
    for (int i = 1; i < merged.size(); i++) {
      assertTrue(AuditReplay.ORDER.compare(merged.get(i - 1), merged.get(i)) < 0, "out of order at " + i);
    }
    assertEquals(j.audit(), AuditReplay.replay("f", all, AuditQuery.all()), "input order does not matter");
    assertEquals(java.util.Set.of("f", "g"), AuditReplay.formations(all));

    // a stream whose clock went backwards keeps its own order
    RecordedEvent x1 = RecordedEvent.ofNode("f", 1, 1, new NodeEvent.HealthChanged(false, "p", "x", 200));
    RecordedEvent x2 = RecordedEvent.ofNode("f", 1, 2, new NodeEvent.HealthChanged(true, "p", "y", 100));
    RecordedEvent y1 = RecordedEvent.ofNode("f", 2, 1, new NodeEvent.HealthChanged(true, "p", "z", 150));
    List<RecordedEvent> m = new java.util.ArrayList<>();
    AuditReplay.merge(AuditReplay.streams("f", List.of(x2, y1, x1))).forEachRemaining(m::add);
    assertEquals(List.of(y1, x1, x2), m);
  }

  @Test
  void persistenceIdsNameFormationsAndNodes() {
    assertEquals("formation|f", RecordedEvent.formationPid("f"));
    assertEquals("node|f|3", RecordedEvent.nodePid("f", 3));
    assertEquals(3, RecordedEvent.nodeIdOf("node|f|3"));
    assertEquals("f", RecordedEvent.formationOf("node|f|3"));
    assertEquals("a|b", RecordedEvent.formationOf("formation|a|b"));
    assertTrue(RecordedEvent.belongsTo("node|f|3", "f"));
    assertTrue(RecordedEvent.belongsTo("formation|f", "f"));
    assertTrue(!RecordedEvent.belongsTo("node|ff|3", "f"));
    assertTrue(!RecordedEvent.belongsTo("formation|ff", "f"));
    assertTrue(!RecordedEvent.belongsTo("node|f|3|4", "f"));
    assertNull(RecordedEvent.nodeIdOf("formation|f"));
  }
}
