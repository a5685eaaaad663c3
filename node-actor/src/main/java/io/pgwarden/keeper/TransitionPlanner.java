package io.pgwarden.keeper;

import static io.pgwarden.keeper.Step.AWAIT_REPLAY;
import static io.pgwarden.keeper.Step.AWAIT_SYNC_STANDBYS;
import static io.pgwarden.keeper.Step.CANCEL_SYNC_WAITERS;
import static io.pgwarden.keeper.Step.CHECKPOINT;
import static io.pgwarden.keeper.Step.CLONE_FROM_PRIMARY;
import static io.pgwarden.keeper.Step.CLONE_FROM_STANDBY;
import static io.pgwarden.keeper.Step.CONFIGURE;
import static io.pgwarden.keeper.Step.CONFIRM_PERMIT;
import static io.pgwarden.keeper.Step.CREATE_DATABASE;
import static io.pgwarden.keeper.Step.DROP_LOCAL_SLOTS;
import static io.pgwarden.keeper.Step.FOLLOW_FAST_FORWARD_SOURCE;
import static io.pgwarden.keeper.Step.FOLLOW_PRIMARY;
import static io.pgwarden.keeper.Step.INIT_DB;
import static io.pgwarden.keeper.Step.MAINTAIN_PEERS;
import static io.pgwarden.keeper.Step.NO_UPSTREAM;
import static io.pgwarden.keeper.Step.PROMOTE;
import static io.pgwarden.keeper.Step.READ_ONLY_OFF;
import static io.pgwarden.keeper.Step.READ_ONLY_ON;
import static io.pgwarden.keeper.Step.REMOVE_STANDBY_SETUP;
import static io.pgwarden.keeper.Step.REQUIRE_LEASE;
import static io.pgwarden.keeper.Step.REWIND_OR_CLONE;
import static io.pgwarden.keeper.Step.START;
import static io.pgwarden.keeper.Step.STOP;
import static io.pgwarden.keeper.Step.SYNC_FROM_CONTROLLER;
import static io.pgwarden.keeper.Step.SYNC_OFF;
import static io.pgwarden.keeper.Step.VERIFY_TIMELINE;
import static io.pgwarden.model.NodeState.APPLY_SETTINGS;
import static io.pgwarden.model.NodeState.CATCHINGUP;
import static io.pgwarden.model.NodeState.DEMOTED;
import static io.pgwarden.model.NodeState.DEMOTE_TIMEOUT;
import static io.pgwarden.model.NodeState.DRAINING;
import static io.pgwarden.model.NodeState.DROPPED;
import static io.pgwarden.model.NodeState.FAST_FORWARD;
import static io.pgwarden.model.NodeState.INIT;
import static io.pgwarden.model.NodeState.JOIN_SECONDARY;
import static io.pgwarden.model.NodeState.MAINTENANCE;
import static io.pgwarden.model.NodeState.PREPARE_MAINTENANCE;
import static io.pgwarden.model.NodeState.PREPARE_PROMOTION;
import static io.pgwarden.model.NodeState.PRIMARY;
import static io.pgwarden.model.NodeState.REPORT_LSN;
import static io.pgwarden.model.NodeState.SECONDARY;
import static io.pgwarden.model.NodeState.SINGLE;
import static io.pgwarden.model.NodeState.STOP_REPLICATION;
import static io.pgwarden.model.NodeState.WAIT_MAINTENANCE;
import static io.pgwarden.model.NodeState.WAIT_PRIMARY;
import static io.pgwarden.model.NodeState.WAIT_STANDBY;

import io.pgwarden.model.NodeState;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What the keeper does to move its PostgreSQL from one state to another: one table, in the order of
 * pg_auto_failover's keeper transition table, plus a few rows marked "pgwarden" for transitions that
 * pgwarden's controller assigns and pg_auto_failover's never does. A pair that is not in the table is
 * refused (the keeper reports the error to the controller); the planner never guesses.
 *
 * <p>Safety lives in the gates: every row that starts a writable PostgreSQL or promotes has
 * {@code [gate: lease]} or {@code [gate: permit]} before that step.
 */
public final class TransitionPlanner {
  private TransitionPlanner() {}

  /** One row: every {@code from} state goes to {@code to} with the same steps. */
  public record Row(Set<NodeState> from, NodeState to, List<Step> steps, String why, boolean pgwardenOnly) {}

  // ------------------------------------------------------------------ the table

  private static final List<Row> ROWS = List.of(
      row(of(INIT, DROPPED), SINGLE, "build a lone primary; writes only under a lease",
          INIT_DB, CONFIGURE, REQUIRE_LEASE, START, PROMOTE, REMOVE_STANDBY_SETUP, SYNC_OFF, READ_ONLY_OFF,
          CREATE_DATABASE, MAINTAIN_PEERS),
      row(of(INIT, DROPPED, SECONDARY), WAIT_STANDBY, "wait for the primary to be ready to clone from"),
      row(of(WAIT_STANDBY), CATCHINGUP, "clone the primary and stream from it",
          CLONE_FROM_PRIMARY, CONFIGURE, FOLLOW_PRIMARY, START),
      row(of(CATCHINGUP), SECONDARY, "same timeline as the primary; keep slots for the peers",
          VERIFY_TIMELINE, MAINTAIN_PEERS),
      row(of(SECONDARY), CATCHINGUP, "follow the primary again", FOLLOW_PRIMARY, START),
      row(of(SINGLE), WAIT_PRIMARY, "slot and HBA entry for the standby that will clone", MAINTAIN_PEERS),
      row(of(PRIMARY, APPLY_SETTINGS), WAIT_PRIMARY, "stop waiting for synchronous standbys",
          SYNC_OFF, CANCEL_SYNC_WAITERS),
      row(of(WAIT_PRIMARY, APPLY_SETTINGS), PRIMARY, "turn synchronous replication on, wait until it holds",
          SYNC_FROM_CONTROLLER, AWAIT_SYNC_STANDBYS),
      row(of(PRIMARY, WAIT_PRIMARY), APPLY_SETTINGS, "nothing: the quorum is applied on the way to primary"),
      row(of(PRIMARY, WAIT_PRIMARY, APPLY_SETTINGS), SINGLE, "alone again: no synchronous standby",
          REQUIRE_LEASE, START, SYNC_OFF, CANCEL_SYNC_WAITERS, MAINTAIN_PEERS),
      row(of(PRIMARY, APPLY_SETTINGS), DRAINING, "stop taking writes (a clean stop sends all WAL)", STOP),
      row(of(PRIMARY, APPLY_SETTINGS, DRAINING), DEMOTE_TIMEOUT, "stop taking writes", STOP),
      row(of(PRIMARY, APPLY_SETTINGS, DRAINING, DEMOTE_TIMEOUT, WAIT_PRIMARY), DEMOTED, "stop taking writes", STOP),
      row(of(DEMOTE_TIMEOUT), PRIMARY, "no failover happened: writable again under a lease",
          REQUIRE_LEASE, START, SYNC_FROM_CONTROLLER),
      row(of(DRAINING, DEMOTE_TIMEOUT, DEMOTED), SINGLE, "resume as a lone primary under a lease",
          REQUIRE_LEASE, START, SYNC_OFF, MAINTAIN_PEERS),
      row(of(DEMOTED, MAINTENANCE, PREPARE_MAINTENANCE), CATCHINGUP, "rewind (or clone) and follow the primary",
          REWIND_OR_CLONE, CONFIGURE, FOLLOW_PRIMARY, START, DROP_LOCAL_SLOTS),
      row(of(SECONDARY, CATCHINGUP, REPORT_LSN), PREPARE_PROMOTION,
          "chosen: close writes ahead of the promotion, wait for the permit", SYNC_OFF, READ_ONLY_ON),
      row(of(PREPARE_PROMOTION), STOP_REPLICATION, "promote under a freshly confirmed permit, writes stay closed",
          CONFIRM_PERMIT, PROMOTE, REMOVE_STANDBY_SETUP),
      row(of(STOP_REPLICATION), WAIT_PRIMARY,
          "open writes under the lease (starting the server again if it was fenced when its permit ran out),"
              + " then checkpoint the new timeline",
          REQUIRE_LEASE, START, READ_ONLY_OFF, CHECKPOINT, MAINTAIN_PEERS),
      row(of(PREPARE_PROMOTION), WAIT_PRIMARY, "promote and open writes under the lease",
          REQUIRE_LEASE, SYNC_OFF, PROMOTE, CHECKPOINT, REMOVE_STANDBY_SETUP, READ_ONLY_OFF, MAINTAIN_PEERS),
      row(of(SECONDARY, CATCHINGUP, PREPARE_PROMOTION, STOP_REPLICATION, REPORT_LSN), SINGLE,
          "promote to a lone primary under the lease",
          REQUIRE_LEASE, START, SYNC_OFF, PROMOTE, CHECKPOINT, REMOVE_STANDBY_SETUP, READ_ONLY_OFF, MAINTAIN_PEERS),
      row(of(SECONDARY, CATCHINGUP, MAINTENANCE, PREPARE_MAINTENANCE), REPORT_LSN,
          "stop streaming so the position freezes, report it", NO_UPSTREAM, START),
      row(of(DRAINING, DEMOTED), REPORT_LSN, "old primary joins the election as a standby",
          NO_UPSTREAM, START, DROP_LOCAL_SLOTS),
      row(of(REPORT_LSN), FAST_FORWARD, "fetch the missing WAL from the most advanced standby",
          FOLLOW_FAST_FORWARD_SOURCE, START, AWAIT_REPLAY, CHECKPOINT),
      row(of(FAST_FORWARD), PREPARE_PROMOTION, "stop following the source, close writes ahead of the promotion",
          NO_UPSTREAM, SYNC_OFF, READ_ONLY_ON),
      row(of(REPORT_LSN), JOIN_SECONDARY, "not elected: stop until the new primary is ready", CHECKPOINT, STOP),
      row(of(REPORT_LSN, JOIN_SECONDARY), SECONDARY,
          "follow the new primary (rewound first if it wrote past the fork, as an old primary in the election may)",
          REWIND_OR_CLONE, CONFIGURE, FOLLOW_PRIMARY, START, VERIFY_TIMELINE, MAINTAIN_PEERS),
      row(of(INIT, DROPPED), REPORT_LSN, "clone the most advanced standby (no primary exists)",
          CLONE_FROM_STANDBY, CONFIGURE, NO_UPSTREAM, START),
      row(of(PRIMARY), PREPARE_MAINTENANCE, "stop for maintenance; a standby gets promoted", CHECKPOINT, STOP),
      row(of(PRIMARY), MAINTENANCE, "stop for maintenance; an operator start comes up as a standby",
          CHECKPOINT, STOP, NO_UPSTREAM),
      row(of(PREPARE_MAINTENANCE), MAINTENANCE, "stopped; an operator start comes up as a standby", STOP,
          NO_UPSTREAM),
      row(of(SECONDARY, CATCHINGUP, WAIT_MAINTENANCE), MAINTENANCE, "nothing: the operator owns PostgreSQL now"),
      row(of(SECONDARY, CATCHINGUP), WAIT_MAINTENANCE, "nothing: wait until the primary stops waiting for us"),
      row(allBut(DROPPED), DROPPED, "leave the formation", STOP),
      // pgwarden: assigned by pgwarden's controller, not by pg_auto_failover's
      pgwarden(of(REPORT_LSN, JOIN_SECONDARY), DEMOTE_TIMEOUT, "old primary that joined the election is demoted",
          STOP),
      pgwarden(of(REPORT_LSN, JOIN_SECONDARY, STOP_REPLICATION, PREPARE_PROMOTION), DEMOTED,
          "old primary after an election, or a candidate that failed before writes opened (promoted or not)", STOP),
      pgwarden(of(PREPARE_PROMOTION, FAST_FORWARD, JOIN_SECONDARY), REPORT_LSN,
          "re-election: the candidate failed, or the new primary did", NO_UPSTREAM, START),
      pgwarden(of(WAIT_PRIMARY), DRAINING, "failover out of wait_primary that an operator allowed to lose data", STOP),
      pgwarden(of(WAIT_PRIMARY), DEMOTE_TIMEOUT, "as from draining", STOP),
      pgwarden(of(MAINTENANCE), SINGLE, "maintenance ends on the only node: a lone primary under the lease",
          REQUIRE_LEASE, START, SYNC_OFF, PROMOTE, CHECKPOINT, REMOVE_STANDBY_SETUP, READ_ONLY_OFF, MAINTAIN_PEERS));

  private static final Map<NodeState, Map<NodeState, Row>> INDEX = index(ROWS);

  // ------------------------------------------------------------------ what PostgreSQL should be doing

  /** What "ensure the current state" keeps PostgreSQL doing while no transition runs. */
  public enum PgWanted {
    /** Running; in a writable state only under a valid lease, in stop_replication only under a permit. */
    RUNNING,
    STOPPED,
    /** The operator owns it (maintenance): the keeper neither starts nor stops nor fences it. */
    OPERATOR,
    /** Nothing to ensure yet: the node is not built (init, wait_standby). */
    NOT_YET
  }

  /** @param maintainPeers keep replication slots and HBA entries for the peers while in this state */
  public record Ensure(PgWanted pg, boolean maintainPeers) {}

  private static final Map<NodeState, Ensure> ENSURE = ensureTable();

  // ------------------------------------------------------------------ API

  /** The steps from {@code from} to {@code to}; empty when the pair is unsupported; no steps when equal. */
  public static Optional<List<Step>> plan(NodeState from, NodeState to) {
    if (from == to) return Optional.of(List.of());
    Row r = INDEX.getOrDefault(from, Map.of()).get(to);
    return r == null ? Optional.empty() : Optional.of(r.steps());
  }

  public static Optional<Row> row(NodeState from, NodeState to) {
    return Optional.ofNullable(INDEX.getOrDefault(from, Map.of()).get(to));
  }

  public static List<Row> rows() {
    return ROWS;
  }

  public static Ensure ensure(NodeState current) {
    return ENSURE.get(current);
  }

  /** The table as Markdown, for docs/keeper.md. */
  public static String printTable() {
    StringBuilder sb = new StringBuilder("| from | to | steps | why |\n|---|---|---|---|\n");
    for (Row r : ROWS) {
      String from = r.from().size() == NodeState.values().length - 1 && !r.from().contains(r.to())
          ? "any" : r.from().stream().map(NodeState::wireName).collect(Collectors.joining(", "));
      String steps = r.steps().isEmpty() ? "(nothing)"
          : r.steps().stream().map(Step::label).collect(Collectors.joining(" → "));
      sb.append("| ").append(from).append(" | ").append(r.to().wireName()).append(" | ").append(steps)
          .append(" | ").append(r.pgwardenOnly() ? "pgwarden: " : "").append(r.why()).append(" |\n");
    }
    return sb.toString();
  }

  public static String printEnsureTable() {
    StringBuilder sb = new StringBuilder("| state | PostgreSQL | peer slots+HBA |\n|---|---|---|\n");
    for (NodeState s : NodeState.values()) {
      Ensure e = ENSURE.get(s);
      sb.append("| ").append(s.wireName()).append(" | ").append(e.pg().name().toLowerCase(java.util.Locale.ROOT)
          .replace('_', ' ')).append(" | ").append(e.maintainPeers() ? "yes" : "").append(" |\n");
    }
    return sb.toString();
  }

  // ------------------------------------------------------------------ building

  private static Row row(Set<NodeState> from, NodeState to, String why, Step... steps) {
    return new Row(from, to, List.of(steps), why, false);
  }

  private static Row pgwarden(Set<NodeState> from, NodeState to, String why, Step... steps) {
    return new Row(from, to, List.of(steps), why, true);
  }

  private static Set<NodeState> of(NodeState first, NodeState... rest) {
    return Collections.unmodifiableSet(EnumSet.of(first, rest));
  }

  private static Set<NodeState> allBut(NodeState s) {
    return Collections.unmodifiableSet(EnumSet.complementOf(EnumSet.of(s)));
  }

  private static Map<NodeState, Map<NodeState, Row>> index(List<Row> rows) {
    Map<NodeState, Map<NodeState, Row>> m = new EnumMap<>(NodeState.class);
    for (Row r : rows) {
      for (NodeState f : r.from()) {
        Row before = m.computeIfAbsent(f, k -> new EnumMap<>(NodeState.class)).put(r.to(), r);
        if (before != null) {
          throw new IllegalStateException("transition " + f + " -> " + r.to() + " appears twice in the table");
        }
      }
    }
    return m;
  }

  private static Map<NodeState, Ensure> ensureTable() {
    Map<NodeState, Ensure> m = new EnumMap<>(NodeState.class);
    Ensure running = new Ensure(PgWanted.RUNNING, false);
    Ensure runningWithPeers = new Ensure(PgWanted.RUNNING, true);
    Ensure stopped = new Ensure(PgWanted.STOPPED, false);
    Ensure notYet = new Ensure(PgWanted.NOT_YET, false);
    for (NodeState s : List.of(SINGLE, WAIT_PRIMARY, PRIMARY, APPLY_SETTINGS, SECONDARY, REPORT_LSN)) {
      m.put(s, runningWithPeers);
    }
    for (NodeState s : List.of(CATCHINGUP, PREPARE_PROMOTION, STOP_REPLICATION, FAST_FORWARD, WAIT_MAINTENANCE)) {
      m.put(s, running);
    }
    for (NodeState s : List.of(DRAINING, DEMOTE_TIMEOUT, DEMOTED, JOIN_SECONDARY, PREPARE_MAINTENANCE, DROPPED)) {
      m.put(s, stopped);
    }
    m.put(INIT, notYet);
    m.put(WAIT_STANDBY, notYet);
    m.put(MAINTENANCE, new Ensure(PgWanted.OPERATOR, false));
    List<NodeState> missing = new ArrayList<>();
    for (NodeState s : NodeState.values()) {
      if (!m.containsKey(s)) missing.add(s);
    }
    if (!missing.isEmpty()) throw new IllegalStateException("no ensure rule for " + missing);
    return m;
  }
}
