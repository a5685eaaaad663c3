package io.pgwarden.keeper;

import static io.pgwarden.keeper.Step.*;
import static io.pgwarden.model.NodeState.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgwarden.keeper.TransitionPlanner.PgWanted;
import io.pgwarden.model.NodeState;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class TransitionPlannerTest {

  /** One expected row: the reference's (or pgwarden's) pairs and the exact steps. */
  record Expect(List<NodeState> from, NodeState to, List<Step> steps, boolean pgwarden) {
    @Override
    public String toString() {
      return from + " -> " + to;
    }
  }

  static Expect ref(List<NodeState> from, NodeState to, Step... steps) {
    return new Expect(from, to, List.of(steps), false);
  }

  static Expect pgw(List<NodeState> from, NodeState to, Step... steps) {
    return new Expect(from, to, List.of(steps), true);
  }

  /** pg_auto_failover 2.0 §3, row by row, then pgwarden's own rows. */
  static final List<Expect> EXPECTED = List.of(
      ref(List.of(INIT, DROPPED), SINGLE, INIT_DB, CONFIGURE, REQUIRE_LEASE, START, PROMOTE, REMOVE_STANDBY_SETUP,
          SYNC_OFF, READ_ONLY_OFF, CREATE_DATABASE, MAINTAIN_PEERS),
      ref(List.of(INIT, DROPPED, SECONDARY), WAIT_STANDBY),
      ref(List.of(WAIT_STANDBY), CATCHINGUP, CLONE_FROM_PRIMARY, CONFIGURE, FOLLOW_PRIMARY, START),
      ref(List.of(CATCHINGUP), SECONDARY, VERIFY_TIMELINE, MAINTAIN_PEERS),
      ref(List.of(SECONDARY), CATCHINGUP, FOLLOW_PRIMARY, START),
      ref(List.of(SINGLE), WAIT_PRIMARY, MAINTAIN_PEERS),
      ref(List.of(PRIMARY, APPLY_SETTINGS), WAIT_PRIMARY, SYNC_OFF, CANCEL_SYNC_WAITERS),
      ref(List.of(WAIT_PRIMARY, APPLY_SETTINGS), PRIMARY, SYNC_FROM_CONTROLLER, AWAIT_SYNC_STANDBYS),
      ref(List.of(PRIMARY, WAIT_PRIMARY), APPLY_SETTINGS),
      ref(List.of(PRIMARY, WAIT_PRIMARY, APPLY_SETTINGS), SINGLE, REQUIRE_LEASE, START, SYNC_OFF, CANCEL_SYNC_WAITERS,
          MAINTAIN_PEERS),
      ref(List.of(PRIMARY, APPLY_SETTINGS), DRAINING, STOP),
      ref(List.of(PRIMARY, APPLY_SETTINGS, DRAINING), DEMOTE_TIMEOUT, STOP),
      ref(List.of(PRIMARY, APPLY_SETTINGS, DRAINING, DEMOTE_TIMEOUT, WAIT_PRIMARY), DEMOTED, STOP),
      ref(List.of(DEMOTE_TIMEOUT), PRIMARY, REQUIRE_LEASE, START, SYNC_FROM_CONTROLLER),
      ref(List.of(DRAINING, DEMOTE_TIMEOUT, DEMOTED), SINGLE, REQUIRE_LEASE, START, SYNC_OFF, MAINTAIN_PEERS),
      ref(List.of(DEMOTED, MAINTENANCE, PREPARE_MAINTENANCE), CATCHINGUP, REWIND_OR_CLONE, CONFIGURE, FOLLOW_PRIMARY,
          START, DROP_LOCAL_SLOTS),
      ref(List.of(SECONDARY, CATCHINGUP, REPORT_LSN), PREPARE_PROMOTION, SYNC_OFF, READ_ONLY_ON),
      ref(List.of(PREPARE_PROMOTION), STOP_REPLICATION, CONFIRM_PERMIT, PROMOTE, REMOVE_STANDBY_SETUP),
      ref(List.of(STOP_REPLICATION), WAIT_PRIMARY, REQUIRE_LEASE, START, READ_ONLY_OFF, CHECKPOINT, MAINTAIN_PEERS),
      ref(List.of(PREPARE_PROMOTION), WAIT_PRIMARY, REQUIRE_LEASE, SYNC_OFF, PROMOTE, CHECKPOINT, REMOVE_STANDBY_SETUP,
          READ_ONLY_OFF, MAINTAIN_PEERS),
      ref(List.of(SECONDARY, CATCHINGUP, PREPARE_PROMOTION, STOP_REPLICATION, REPORT_LSN), SINGLE, REQUIRE_LEASE, START,
          SYNC_OFF, PROMOTE, CHECKPOINT, REMOVE_STANDBY_SETUP, READ_ONLY_OFF, MAINTAIN_PEERS),
      ref(List.of(SECONDARY, CATCHINGUP, MAINTENANCE, PREPARE_MAINTENANCE), REPORT_LSN, NO_UPSTREAM, START),
      ref(List.of(DRAINING, DEMOTED), REPORT_LSN, NO_UPSTREAM, START, DROP_LOCAL_SLOTS),
      ref(List.of(REPORT_LSN), FAST_FORWARD, FOLLOW_FAST_FORWARD_SOURCE, START, AWAIT_REPLAY, CHECKPOINT),
      ref(List.of(FAST_FORWARD), PREPARE_PROMOTION, NO_UPSTREAM, SYNC_OFF, READ_ONLY_ON),
      ref(List.of(REPORT_LSN), JOIN_SECONDARY, CHECKPOINT, STOP),
      ref(List.of(REPORT_LSN, JOIN_SECONDARY), SECONDARY, REWIND_OR_CLONE, CONFIGURE, FOLLOW_PRIMARY, START,
          VERIFY_TIMELINE, MAINTAIN_PEERS),
      ref(List.of(INIT, DROPPED), REPORT_LSN, CLONE_FROM_STANDBY, CONFIGURE, NO_UPSTREAM, START),
      ref(List.of(PRIMARY), PREPARE_MAINTENANCE, CHECKPOINT, STOP),
      ref(List.of(PRIMARY), MAINTENANCE, CHECKPOINT, STOP, NO_UPSTREAM),
      ref(List.of(PREPARE_MAINTENANCE), MAINTENANCE, STOP, NO_UPSTREAM),
      ref(List.of(SECONDARY, CATCHINGUP, WAIT_MAINTENANCE), MAINTENANCE),
      ref(List.of(SECONDARY, CATCHINGUP), WAIT_MAINTENANCE),
      ref(allBut(DROPPED), DROPPED, STOP),
      pgw(List.of(REPORT_LSN, JOIN_SECONDARY), DEMOTE_TIMEOUT, STOP),
      pgw(List.of(REPORT_LSN, JOIN_SECONDARY, STOP_REPLICATION, PREPARE_PROMOTION), DEMOTED, STOP),
      pgw(List.of(PREPARE_PROMOTION, FAST_FORWARD, JOIN_SECONDARY), REPORT_LSN, NO_UPSTREAM, START),
      pgw(List.of(WAIT_PRIMARY), DRAINING, STOP),
      pgw(List.of(WAIT_PRIMARY), DEMOTE_TIMEOUT, STOP),
      pgw(List.of(MAINTENANCE), SINGLE, REQUIRE_LEASE, START, SYNC_OFF, PROMOTE, CHECKPOINT, REMOVE_STANDBY_SETUP,
          READ_ONLY_OFF, MAINTAIN_PEERS));

  static List<NodeState> allBut(NodeState s) {
    return List.copyOf(EnumSet.complementOf(EnumSet.of(s)));
  }

  static Stream<Arguments> pairs() {
    List<Arguments> out = new ArrayList<>();
    for (Expect e : EXPECTED) {
      for (NodeState f : e.from()) out.add(Arguments.of(f, e.to(), e.steps(), e.pgwarden()));
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @MethodSource("pairs")
  void everyRowPlansExactlyItsSteps(NodeState from, NodeState to, List<Step> steps, boolean pgwarden) {
    assertEquals(steps, TransitionPlanner.plan(from, to).orElseThrow(() -> new AssertionError("no plan")));
    assertEquals(pgwarden, TransitionPlanner.row(from, to).orElseThrow().pgwardenOnly());
  }

  @Test
  void theTableHasNoRowTheTestDoesNotKnow() {
    Set<String> expected = new LinkedHashSet<>();
    for (Expect e : EXPECTED) {
      for (NodeState f : e.from()) expected.add(f + "->" + e.to());
    }
    Set<String> actual = new LinkedHashSet<>();
    for (TransitionPlanner.Row r : TransitionPlanner.rows()) {
      for (NodeState f : r.from()) actual.add(f + "->" + r.to());
    }
    assertEquals(expected, actual);
  }

  static Stream<Arguments> unsupported() {
    return Stream.of(
        Arguments.of(SECONDARY, PRIMARY), Arguments.of(CATCHINGUP, WAIT_PRIMARY), Arguments.of(INIT, PRIMARY),
        Arguments.of(DEMOTED, PRIMARY), Arguments.of(DEMOTED, WAIT_PRIMARY), Arguments.of(WAIT_STANDBY, SECONDARY),
        Arguments.of(SECONDARY, STOP_REPLICATION), Arguments.of(REPORT_LSN, STOP_REPLICATION),
        Arguments.of(DROPPED, CATCHINGUP), Arguments.of(MAINTENANCE, PRIMARY), Arguments.of(JOIN_SECONDARY, PRIMARY),
        Arguments.of(SINGLE, PRIMARY), Arguments.of(DRAINING, PRIMARY), Arguments.of(INIT, SECONDARY));
  }

  @ParameterizedTest(name = "{0} -> {1} is refused")
  @MethodSource("unsupported")
  void unsupportedPairsAreRefused(NodeState from, NodeState to) {
    assertTrue(TransitionPlanner.plan(from, to).isEmpty());
  }

  @Test
  void sameStateNeedsNoSteps() {
    for (NodeState s : NodeState.values()) assertEquals(List.of(), TransitionPlanner.plan(s, s).orElseThrow());
  }

  /** Whatever may promote or start a writable PostgreSQL is behind a gate. */
  @Test
  void promotionAndWritableStartsAreGated() {
    for (TransitionPlanner.Row r : TransitionPlanner.rows()) {
      boolean gated = false;
      for (Step s : r.steps()) {
        if (s.isGate()) gated = true;
        boolean opensWrites = s instanceof Step.Promote || s.equals(READ_ONLY_OFF)
            || s instanceof Step.Start && r.to().canTakeWrites();
        assertFalse(opensWrites && !gated, r.from() + " -> " + r.to() + ": " + s.label() + " before any gate");
      }
    }
  }

  /**
   * The only promotion into a non-writable state confirms its permit right before promoting; writes were
   * closed (no synchronous standby, read-only default) on the way into prepare_promotion, off the
   * promotion's critical path, and the checkpoint of the new timeline comes after writes open.
   */
  @Test
  void stopReplicationConfirmsThePermitRightBeforePromoting() {
    List<Step> p = TransitionPlanner.plan(PREPARE_PROMOTION, STOP_REPLICATION).orElseThrow();
    int confirm = p.indexOf(CONFIRM_PERMIT);
    assertEquals(PROMOTE, p.get(confirm + 1));
    assertFalse(p.contains(READ_ONLY_OFF));
    for (NodeState from : List.of(SECONDARY, CATCHINGUP, REPORT_LSN, FAST_FORWARD)) {
      List<Step> before = TransitionPlanner.plan(from, PREPARE_PROMOTION).orElseThrow();
      assertTrue(before.contains(SYNC_OFF) && before.contains(READ_ONLY_ON), from + " -> prepare_promotion");
    }
    List<Step> open = TransitionPlanner.plan(STOP_REPLICATION, WAIT_PRIMARY).orElseThrow();
    assertTrue(open.indexOf(READ_ONLY_OFF) < open.indexOf(CHECKPOINT), "writes open before the checkpoint");
  }

  @Test
  void leavingAWritableStateForANonWritableOneStopsPostgres() {
    for (TransitionPlanner.Row r : TransitionPlanner.rows()) {
      for (NodeState f : r.from()) {
        if (f.canTakeWrites() && !r.to().canTakeWrites() && r.to() != APPLY_SETTINGS) {
          assertTrue(r.steps().contains(STOP), f + " -> " + r.to());
        }
      }
    }
  }

  @Test
  void ensureCoversEveryState() {
    assertEquals(PgWanted.RUNNING, TransitionPlanner.ensure(PRIMARY).pg());
    assertEquals(PgWanted.RUNNING, TransitionPlanner.ensure(SECONDARY).pg());
    assertEquals(PgWanted.RUNNING, TransitionPlanner.ensure(STOP_REPLICATION).pg());
    for (NodeState s : List.of(DRAINING, DEMOTE_TIMEOUT, DEMOTED, JOIN_SECONDARY, DROPPED, PREPARE_MAINTENANCE)) {
      assertEquals(PgWanted.STOPPED, TransitionPlanner.ensure(s).pg(), s.wireName());
    }
    assertEquals(PgWanted.OPERATOR, TransitionPlanner.ensure(MAINTENANCE).pg());
    assertEquals(PgWanted.NOT_YET, TransitionPlanner.ensure(INIT).pg());
    assertTrue(TransitionPlanner.ensure(PRIMARY).maintainPeers());
  }

  @Test
  void theDocsHaveTheCurrentTables() throws java.io.IOException {
    java.nio.file.Path doc = java.nio.file.Path.of("..", "docs", "keeper.md");
    org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.exists(doc), "run from the module directory");
    String text = java.nio.file.Files.readString(doc);
    assertTrue(text.contains(TransitionPlanner.printTable()), "docs/keeper.md: paste TransitionPlanner.printTable()");
    assertTrue(text.contains(TransitionPlanner.printEnsureTable()), "docs/keeper.md: paste printEnsureTable()");
  }

  @Test
  void theTablePrintsItself() {
    String t = TransitionPlanner.printTable();
    assertTrue(t.startsWith("| from | to | steps | why |"));
    assertTrue(t.contains("| prepare_promotion | stop_replication | [gate: permit] → promote → remove standby setup |"),
        t);
    assertTrue(t.contains("| any | dropped | stop (fast) |"), t);
    assertTrue(t.contains("pgwarden: "), t);
    assertEquals(TransitionPlanner.rows().size() + 2, t.split("\n").length);
    String e = TransitionPlanner.printEnsureTable();
    assertTrue(e.contains("| maintenance | operator |"), e);
    // the printout for docs/keeper.md; run with -Dkeeper.printTable=true to see it
    if (Boolean.getBoolean("keeper.printTable")) System.out.println(t + "\n" + e);
  }
}
