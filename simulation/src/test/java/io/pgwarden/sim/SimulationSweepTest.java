package io.pgwarden.sim;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.pgwarden.controller.core.GroupRules;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The CI sweep: {@code sim.seeds} seeded failure histories (10,000 by default) of the real cores, each
 * at least ten virtual minutes of faults, every invariant checked as it runs. Prints
 * {@code SIMULATION seeds=<n> violations=<n> seeds_per_s=<x>} and the coverage, and fails on any
 * violation, or if a group rule or a planner row was never exercised (except those excluded below, each
 * with the reason it cannot happen in the simulated world; docs/simulation.md lists them too).
 */
class SimulationSweepTest {
  /** Rules the simulator cannot make fire, and why (docs/simulation.md, "Coverage"). */
  static final Map<String, String> EXCLUDED_RULES = new TreeMap<>(Map.of(
      "G1-single-node-report-lsn", "needs a formation whose only node has candidate priority 0; the simulated"
          + " operator never leaves a lone node at priority 0 (and such a node could not be built: open finding)"));

  /** Planner rows (as Stats.rowName prints them) the simulator cannot complete, and why. */
  static final Map<String, String> EXCLUDED_ROWS = new TreeMap<>(Map.of(
      "demote_timeout->primary", "no rule of pgwarden's controller cancels a failover once the old primary was"
          + " told demote_timeout (pg_auto_failover's timeout path): kept in the table for parity",
      "prepare_promotion->wait_primary", "no rule assigns wait_primary to a prepare_promotion node: promotion"
          + " always passes through stop_replication (the permit)",
      "primary->maintenance", "maintenance of a primary always passes through prepare_maintenance",
      "init,dropped->report_lsn", "only G1-single-node-report-lsn assigns it (see above)",
      "draining,demote_timeout,demoted->single", "needs the last other node dropped in the middle of a failover;"
          + " the simulated operator drops nodes of a settled formation",
      "wait_primary->draining", "a failover out of wait_primary needs failover_data_loss_allowed > 0 while the"
          + " primary of a wait_primary formation fails: rare in this fault model, not impossible",
      "wait_primary->demote_timeout", "as wait_primary->draining",
      "maintenance->single", "maintenance ends on the last node left: every other node dropped while it was in"
          + " maintenance, which since a plain drop of a primary that could lose writes is refused takes a"
          + " forced drop first (seen twice in 10,000 seeds before that)"));

  /**
   * Violations of the open findings listed in docs/simulation.md tolerated per thousand seeds while they
   * are open — liveness (invariant 3), "1-split-brain-keeper-down" (the lease fence needs a running
   * keeper) and "2-loss-after-journal-tail-loss" (a journal that loses acknowledged decisions) — every one
   * printed. Any other violation of invariants 1, 2, 4 or 5 fails the sweep.
   */
  static final long LIVENESS_PER_MILLE = 15;

  @Test
  void seededFailureHistories() {
    assumeTrue(System.getProperty("sim.seed", "").isBlank(), "replaying one seed: no sweep");
    long seeds = Long.getLong("sim.seeds", 10_000);
    long from = Long.getLong("sim.from", 1);
    int threads = Integer.getInteger("sim.threads", 2);
    Simulator.Sweep sw = Simulator.sweep(from, seeds, threads, EnumSet.noneOf(Bugs.class), (int) Math.max(20,
        seeds * LIVENESS_PER_MILLE / 1000 + 1));
    System.out.println(sw.summary());
    for (String l : sw.stats().coverage(GroupRules.RULES)) System.out.println(l);
    List<String> problems = new ArrayList<>();
    long liveness = 0;
    for (SimResult r : sw.failures()) {
      boolean safety = !r.violation().invariant().startsWith("3-")
          && !r.violation().invariant().equals("1-split-brain-keeper-down")
          && !r.violation().invariant().equals("2-loss-after-journal-tail-loss");
      System.out.println((safety ? "SAFETY " : "OPEN-FINDING ") + r.report(safety ? 80 : 15));
      if (safety) {
        problems.add("seed " + r.seed() + ": " + r.violation().invariant() + ": " + r.violation().detail());
      } else {
        liveness++;
      }
    }
    if (liveness * 1000 > LIVENESS_PER_MILLE * seeds) {
      problems.add(liveness + " open-finding violations in " + seeds + " seeds, more than " + LIVENESS_PER_MILLE
          + " per thousand");
    }
    if (seeds >= 1_000) {
      for (String rule : GroupRules.RULES) {
        if (sw.stats().rules.getOrDefault(rule, 0L) == 0 && !EXCLUDED_RULES.containsKey(rule)) {
          problems.add("group rule " + rule + " never fired");
        }
      }
      for (String row : sw.stats().rowsNeverDone()) {
        if (!EXCLUDED_ROWS.containsKey(row)) problems.add("planner row " + row + " never completed");
      }
    }
    assertTrue(problems.isEmpty(), String.join("\n", problems));
  }
}
