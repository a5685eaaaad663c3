package io.pgwarden.controller.core;

import static io.pgwarden.model.NodeState.CATCHINGUP;
import static io.pgwarden.model.NodeState.DEMOTED;
import static io.pgwarden.model.NodeState.DROPPED;
import static io.pgwarden.model.NodeState.MAINTENANCE;
import static io.pgwarden.model.NodeState.PREPARE_MAINTENANCE;
import static io.pgwarden.model.NodeState.PREPARE_PROMOTION;
import static io.pgwarden.model.NodeState.PRIMARY;
import static io.pgwarden.model.NodeState.SECONDARY;
import static io.pgwarden.model.NodeState.SINGLE;
import static io.pgwarden.model.NodeState.WAIT_MAINTENANCE;
import static io.pgwarden.model.NodeState.WAIT_PRIMARY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgwarden.api.ApiException;
import io.pgwarden.api.Dto;
import io.pgwarden.model.FormationEvent;
import io.pgwarden.model.ReportReply;
import org.junit.jupiter.api.Test;

/** Operator actions: what they do, and that a refused one changes nothing. */
class OperatorActionsTest {

  static ApiException refused(Object reply) {
    return assertInstanceOf(ApiException.class, reply);
  }

  @Test
  void switchoverAndBackWithTwoNodes() {
    CoreHarness h = CoreHarness.formation("a", "b");
    long term = h.f.term();
    Dto.Operation op = assertInstanceOf(Dto.Operation.class, h.operator("switchover", null, null, false, "s1"));
    assertEquals("accepted", op.status());
    assertEquals(PREPARE_PROMOTION, h.goal(2));
    FormationEvent.Decided d = h.lastDecision();
    assertEquals("operator-switchover", d.rule());
    assertEquals("alice", d.by().who());
    // the old primary stops cleanly and reports it: the new one need not wait for its lease
    long took = h.until(() -> h.goal(2) == WAIT_PRIMARY, 10_000);
    assertTrue(took < h.t.leaseCertainlyExpiredAfterMs(), "switchover waited for a lease: " + took);
    h.converge();
    assertEquals(PRIMARY, h.goal(2));
    assertEquals(SECONDARY, h.goal(1));
    assertTrue(h.f.term() > term);
    assertEquals("succeeded", new OperatorActions(h.core.new Step(h.f, h.obs, h.now()))
        .view(h.f.operations().get("s1"), null).status());
    h.operator("switchover", null, null, false, "s2");
    h.converge();
    assertEquals(PRIMARY, h.goal(1));
    assertEquals(SECONDARY, h.goal(2));
  }

  @Test
  void idempotentRetryReturnsTheSameOperationAndChangesNothing() {
    CoreHarness h = CoreHarness.formation("a", "b");
    Dto.Operation first = (Dto.Operation) h.operator("switchover", null, null, false, "same-key");
    long seq = h.f.seq();
    Dto.Operation again = (Dto.Operation) h.operator("switchover", null, null, false, "same-key");
    assertEquals(first.id(), again.id());
    assertEquals(seq, h.f.seq());
  }

  @Test
  void theSameKeyForAnotherRequestIsRefused() {
    CoreHarness h = CoreHarness.formation("a", "b");
    h.operator("set-candidate-priority", "b", 70L, false, "k1");
    long seq = h.f.seq();
    int events = h.journal.size();
    ApiException e = refused(h.operator("switchover", null, null, false, "k1"));
    assertEquals(409, e.status());
    assertEquals(seq, h.f.seq());
    assertEquals(events, h.journal.size());
    Dto.Operation first = (Dto.Operation) h.operator("switchover", null, null, false, "k2");
    Dto.Operation again = (Dto.Operation) h.operator("switchover", null, null, false, "k2");
    assertEquals(first.id(), again.id());
    assertEquals(409, refused(h.operator("set-candidate-priority", "b", 70L, false, "k2")).status());
  }

  @Test
  void refusedActionsChangeNothing() {
    CoreHarness h = CoreHarness.formation("a", "b");
    int events = h.journal.size();
    assertEquals(409, refused(h.operator("maintenance-on", "a", null, false, null)).status(), "primary needs allow");
    assertEquals(404, refused(h.operator("promotion", "zz", null, false, null)).status());
    assertEquals(400, refused(h.operator("set-candidate-priority", "b", 101L, false, null)).status());
    assertEquals(400, refused(h.operator("explode", null, null, false, null)).status());
    assertEquals(409, refused(h.operator("maintenance-off", "b", null, false, null)).status());
    assertEquals(409, refused(h.operator("set-number-sync-standbys", null, 1L, false, null)).status(),
        "one quorum standby cannot carry number_sync_standbys 1");
    h.operator("switchover", null, null, false, null);
    assertEquals(409, refused(h.operator("failover", null, null, false, null)).status(), "already failing over");
    long decided = h.journal.stream().skip(events).filter(e -> e instanceof FormationEvent.Decided).count();
    assertEquals(1, decided, "only the accepted switchover was journaled");
  }

  @Test
  void maintenanceOnTheOnlySecondaryPutsThePrimaryInWaitPrimaryFirst() {
    CoreHarness h = CoreHarness.formation("a", "b");
    h.operator("maintenance-on", "b", null, false, null);
    assertEquals(WAIT_PRIMARY, h.goal(1));
    assertEquals(WAIT_MAINTENANCE, h.goal(2));
    h.converge();
    assertEquals(MAINTENANCE, h.goal(2));
    assertTrue(h.rules().contains("S10-wait-maintenance-done"));
    h.operator("maintenance-off", "b", null, false, null);
    assertEquals(CATCHINGUP, h.goal(2));
    h.converge();
    assertEquals(SECONDARY, h.goal(2));
    assertEquals(PRIMARY, h.goal(1));
  }

  @Test
  void maintenanceOnThePrimaryFailsOverFirst() {
    CoreHarness h = CoreHarness.formation("a", "b");
    h.operator("maintenance-on", "a", null, true, null);
    assertEquals(PREPARE_MAINTENANCE, h.goal(1));
    assertEquals(PREPARE_PROMOTION, h.goal(2));
    h.converge();
    assertEquals(MAINTENANCE, h.goal(1));
    assertEquals(WAIT_PRIMARY, h.goal(2));
    assertTrue(h.rules().contains("S12-promote-for-maintenance"), h.rules().toString());
    assertTrue(h.rules().contains("S16-maintenance-handover"), h.rules().toString());
    h.operator("maintenance-off", "a", null, false, null);
    h.converge();
    assertEquals(SECONDARY, h.goal(1));
    assertEquals(PRIMARY, h.goal(2));
  }

  @Test
  void dropStandbyThenTheLonePrimaryBecomesSingle() {
    CoreHarness h = CoreHarness.formation("a", "b");
    h.operator("drop-node", "b", null, false, null);
    assertEquals(DROPPED, h.goal(2));
    h.converge();
    assertFalse(h.f.members().containsKey(2), "removed once its keeper confirmed");
    assertEquals(SINGLE, h.goal(1));
    assertTrue(h.rules().contains("G1-single-node"));
  }

  @Test
  void forcedDropOfThePrimaryWaitsForItsLeaseBeforeTheStandbyWrites() {
    CoreHarness h = CoreHarness.formation("a", "b");
    h.report(1);
    long grant = h.mono;
    h.with(1, s -> {
      s.up = false;
      s.pgUp = false;
    });
    h.operator("drop-node", "a", null, true, null);
    assertFalse(h.f.members().containsKey(1));
    h.until(() -> h.goal(2) == SINGLE, 10_000);
    assertTrue(h.mono - grant >= h.t.leaseCertainlyExpiredAfterMs(), "writes moved before a's lease ended");
  }

  @Test
  void priorityChangeReordersTheStandbyNames() {
    CoreHarness h = ElectionTest.threeNodes();
    assertEquals("ANY 1 (pgwarden_2, pgwarden_3)", h.sim(1).syncNames);
    long seq = h.f.seq();
    h.operator("set-candidate-priority", "c", 80L, false, null);
    h.converge();
    assertEquals("ANY 1 (pgwarden_3, pgwarden_2)", GroupRules.of(h.f, h.obs, h.t, h.mono).desiredNames(1));
    assertEquals(seq, h.f.seq(), "with ANY the order of the names changes nothing: no apply_settings");

  }

  @Test
  void failoverDataLossAllowedIsASetting() {
    CoreHarness h = CoreHarness.formation("a", "b");
    h.operator("set-failover-data-loss-allowed", null, 4096L, false, null);
    assertEquals(4096L, h.f.settings().failoverDataLossAllowed());
    ReportReply r = (ReportReply) h.report(2);
    assertEquals(4096L, r.formationSettings().failoverDataLossAllowed());
  }

  @Test
  void oldPrimaryThatComesBackDuringTheFailoverIsDemoted() {
    CoreHarness h = CoreHarness.formation("a", "b");
    h.with(1, s -> {
      s.up = false;
      s.pgUp = false;
    });
    h.with(2, s -> s.streaming = false);
    h.until(() -> h.goal(2) == WAIT_PRIMARY, 10_000);
    h.with(1, s -> {
      s.up = true;
      s.pgUp = true;
      s.streaming = true;
    });
    ReportReply r = (ReportReply) h.report(1);
    assertEquals(DEMOTED, r.goal().state());
    assertEquals(null, r.lease(), "an old primary never gets a lease back");
  }
}
