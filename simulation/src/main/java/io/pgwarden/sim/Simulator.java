package io.pgwarden.sim;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Entry points: one seed (with its full trace and trace hash), or a sweep of seeds on a few threads
 * (each seed is independent and deterministic, so the threads change nothing but the wall time).
 */
public final class Simulator {
  private Simulator() {}

  /** One run; {@code full} formats and hashes every trace line. */
  static SimResult run(long seed, Set<Bugs> bugs, boolean full, boolean keepLines) {
    World w = new World(seed, bugs, full, keepLines);
    SimResult r = w.run();
    r.stats().close();
    r.stats().seeds = 1;
    r.stats().violations = r.ok() ? 0 : 1;
    r.stats().events = r.events();
    r.stats().virtualMs = r.endUs() / 1000;
    r.stats().acks = w.clients.acks;
    return r;
  }

  /** The outcome of a sweep. */
  record Sweep(Stats stats, List<SimResult> failures, long wallMs) {
    double seedsPerSecond() {
      return stats.seeds * 1000.0 / Math.max(1, wallMs);
    }

    String summary() {
      return String.format(Locale.ROOT, "SIMULATION seeds=%d violations=%d seeds_per_s=%.1f", stats.seeds,
          stats.violations, seedsPerSecond());
    }
  }

  /** Seeds {@code from .. from+count-1}; stops early after {@code maxFailures} failing seeds. */
  static Sweep sweep(long from, long count, int threads, Set<Bugs> bugs, int maxFailures) {
    long t0 = System.nanoTime();
    Stats total = new Stats();
    List<SimResult> failures = new ArrayList<>();
    AtomicLong next = new AtomicLong(from);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> fs = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        fs.add(pool.submit(() -> {
          while (true) {
            long seed = next.getAndIncrement();
            if (seed >= from + count) return;
            synchronized (failures) {
              if (failures.size() >= maxFailures) return;
            }
            SimResult r = run(seed, bugs, false, false);
            total.merge(r.stats());
            if (!r.ok()) {
              synchronized (failures) {
                failures.add(r);
              }
            }
          }
        }));
      }
      for (Future<?> f : fs) f.get();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    } finally {
      pool.shutdownNow();
    }
    failures.sort((a, b) -> Long.compare(a.seed(), b.seed()));
    return new Sweep(total, failures, (System.nanoTime() - t0) / 1_000_000);
  }

  static Set<Bugs> parseBugs(String s) {
    Set<Bugs> out = EnumSet.noneOf(Bugs.class);
    if (s == null || s.isBlank()) return out;
    for (String p : s.split(",")) out.add(Bugs.valueOf(p.trim()));
    return out;
  }

  /** java -cp ... io.pgwarden.sim.Simulator SEED [BUGS]: replays one seed, prints its trace and hash. */
  public static void main(String[] args) {
    if (args[0].equals("sweep")) {
      Sweep sw = sweep(Long.parseLong(args[1]), Long.parseLong(args[2]), Integer.parseInt(args[3]),
          parseBugs(args.length > 4 ? args[4] : null), 1000);
      for (SimResult r : sw.failures()) {
        System.out.println("seed " + r.seed() + ": " + r.violation().invariant() + ": " + r.violation().detail());
      }
      System.out.println(sw.summary() + " events=" + sw.stats().events);
      for (String l : sw.stats().coverage(io.pgwarden.controller.core.GroupRules.RULES)) System.out.println(l);
      return;
    }
    long seed = Long.parseLong(args[0]);
    Set<Bugs> bugs = parseBugs(args.length > 1 ? args[1] : null);
    boolean quiet = args.length > 2 && args[2].equals("--hash-only");
    SimResult r = run(seed, bugs, true, !quiet);
    if (!quiet) {
      for (String l : r.trace().lines()) System.out.println(l);
      System.out.println(r.report(60));
    }
    System.out.println("TRACE seed=" + seed + " events=" + r.events() + " hash=" + r.trace().hash());
  }
}
