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
  /** Rules the simulator cannot make fire, and why. */
  static final Map<String, String> EXCLUDED_RULES = new TreeMap<>(Map.of());

  /** Planner rows (as Stats.rowName prints them) the simulator cannot complete, and why. */
  static final Map<String, String> EXCLUDED_ROWS = new TreeMap<>(Map.of());

  @Test
  void seededFailureHistories() {
    assumeTrue(System.getProperty("sim.seed", "").isBlank(), "replaying one seed: no sweep");
    long seeds = Long.getLong("sim.seeds", 10_000);
    long from = Long.getLong("sim.from", 1);
    int threads = Integer.getInteger("sim.threads", 2);
    Simulator.Sweep sw = Simulator.sweep(from, seeds, threads, EnumSet.noneOf(Bugs.class), 20);
    System.out.println(sw.summary());
    for (String l : sw.stats().coverage(GroupRules.RULES)) System.out.println(l);
    List<String> problems = new ArrayList<>();
    for (SimResult r : sw.failures()) {
      System.out.println(r.report(60));
      problems.add("seed " + r.seed() + ": " + r.violation().invariant());
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
