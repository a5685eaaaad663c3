package io.pgwarden.sim;

import java.util.TreeMap;

/** Temporary profiling counters. */
final class Prof {
  static final boolean ON = Boolean.getBoolean("sim.prof");
  private static final TreeMap<String, long[]> T = new TreeMap<>();

  static void add(String k, long ns) {
    if (!ON) return;
    synchronized (T) {
      long[] v = T.computeIfAbsent(k, x -> new long[2]);
      v[0]++;
      v[1] += ns;
    }
  }

  static void print() {
    if (!ON) return;
    T.forEach((k, v) -> System.out.printf("%-40s %10d calls %8.1f ms %6.2f us/call%n", k, v[0], v[1] / 1e6, v[1] / 1e3 / v[0]));
  }
}
