package io.pgwarden.sim;

import io.pgwarden.keeper.TransitionPlanner;
import io.pgwarden.model.FormationEvent;
import io.pgwarden.model.Goal;
import io.pgwarden.model.NodeState;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Coverage of one run (and, merged, of a sweep): which group rules fired, which planner rows were
 * started and completed, which states keepers reached and were assigned.
 */
final class Stats {
  static final List<TransitionPlanner.Row> ROWS = TransitionPlanner.rows();

  final TreeMap<String, Long> rules = new TreeMap<>();
  final long[] rowsStarted = new long[ROWS.size()];
  final long[] rowsDone = new long[ROWS.size()];
  final EnumMap<NodeState, Long> reached = new EnumMap<>(NodeState.class);
  private final long[] reachedCounts = new long[NodeState.values().length];
  final EnumMap<NodeState, Long> assigned = new EnumMap<>(NodeState.class);
  long seeds;
  long violations;
  long events;
  long virtualMs;
  long acks;
  long failovers;

  static int rowIndex(NodeState from, NodeState to) {
    TransitionPlanner.Row r = TransitionPlanner.row(from, to).orElse(null);
    if (r == null) return -1;
    for (int i = 0; i < ROWS.size(); i++) {
      if (ROWS.get(i) == r) return i;
    }
    return -1;
  }

  void event(FormationEvent e) {
    if (e instanceof FormationEvent.Decided d) {
      rules.merge(d.rule(), 1L, Long::sum);
      for (Goal g : d.goals()) assigned.merge(g.state(), 1L, Long::sum);
      if (d.failover() != null) failovers++;
    }
  }

  void keeperState(NodeState s) {
    reachedCounts[s.ordinal()]++;
  }

  /** Folds the per-step counters into the maps (once, at the end of a run). */
  void close() {
    for (NodeState s : NodeState.values()) {
      if (reachedCounts[s.ordinal()] > 0) reached.merge(s, reachedCounts[s.ordinal()], Long::sum);
      reachedCounts[s.ordinal()] = 0;
    }
  }

  void rowStarted(NodeState from, NodeState to) {
    int i = rowIndex(from, to);
    if (i >= 0) rowsStarted[i]++;
  }

  void transitionDone(NodeState from, NodeState to) {
    int i = rowIndex(from, to);
    if (i >= 0) rowsDone[i]++;
  }

  synchronized void merge(Stats o) {
    o.rules.forEach((k, v) -> rules.merge(k, v, Long::sum));
    for (int i = 0; i < rowsDone.length; i++) {
      rowsStarted[i] += o.rowsStarted[i];
      rowsDone[i] += o.rowsDone[i];
    }
    o.reached.forEach((k, v) -> reached.merge(k, v, Long::sum));
    o.assigned.forEach((k, v) -> assigned.merge(k, v, Long::sum));
    seeds += o.seeds;
    violations += o.violations;
    events += o.events;
    virtualMs += o.virtualMs;
    acks += o.acks;
    failovers += o.failovers;
  }

  static String rowName(int i) {
    TransitionPlanner.Row r = ROWS.get(i);
    StringBuilder sb = new StringBuilder();
    for (NodeState s : r.from()) {
      if (sb.length() > 0) sb.append(',');
      sb.append(s.wireName());
    }
    if (r.from().size() > 10) sb = new StringBuilder("any");
    return sb + "->" + r.to().wireName();
  }

  /** Rows of the planner never completed, by name. */
  List<String> rowsNeverDone() {
    List<String> out = new java.util.ArrayList<>();
    for (int i = 0; i < rowsDone.length; i++) {
      if (rowsDone[i] == 0) out.add(rowName(i));
    }
    return out;
  }

  /** The coverage lines a sweep prints. */
  List<String> coverage(List<String> allRules) {
    List<String> out = new java.util.ArrayList<>();
    long fired = allRules.stream().filter(r -> rules.getOrDefault(r, 0L) > 0).count();
    long rowsDoneCount = java.util.Arrays.stream(rowsDone).filter(v -> v > 0).count();
    out.add(String.format(java.util.Locale.ROOT,
        "COVERAGE group_rules_fired=%d/%d planner_rows_done=%d/%d states_reached=%d/%d states_assigned=%d/%d"
            + " failovers=%d acks=%d virtual_h=%.1f",
        fired, allRules.size(), rowsDoneCount, rowsDone.length, reached.size(), NodeState.values().length,
        assigned.size(), NodeState.values().length, failovers, acks, virtualMs / 3_600_000.0));
    out.add("COVERAGE rules " + rules);
    StringBuilder rows = new StringBuilder("COVERAGE rows");
    for (int i = 0; i < rowsDone.length; i++) rows.append(' ').append(rowName(i)).append('=').append(rowsDone[i]);
    out.add(rows.toString());
    out.add("COVERAGE reached " + reached + " assigned " + assigned);
    List<String> never = allRules.stream().filter(r -> rules.getOrDefault(r, 0L) == 0).toList();
    out.add("COVERAGE never fired: " + never + "; rows never done: " + rowsNeverDone());
    return out;
  }

  Map<String, Long> rulesCopy() {
    return new TreeMap<>(rules);
  }
}
