package io.pgwarden.sim;

/**
 * The one pseudo-random source of a run: SplitMix64, written out here so that the sequence is fixed by
 * this file alone (no JDK algorithm choice, no platform difference). Same seed, same numbers, in any JVM.
 */
final class Rng {
  private long state;

  Rng(long seed) {
    // the seed goes through the output mix first: neighbouring seeds must not share a shifted sequence
    long z = seed + 0x632BE59BD9B4E019L;
    z = (z ^ (z >>> 33)) * 0xFF51AFD7ED558CCDL;
    z = (z ^ (z >>> 33)) * 0xC4CEB9FE1A85EC53L;
    this.state = z ^ (z >>> 33);
  }

  long nextLong() {
    long z = (state += 0x9E3779B97F4A7C15L);
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Uniform in [0, bound). */
  int nextInt(int bound) {
    if (bound <= 0) throw new IllegalArgumentException("bound " + bound);
    return (int) Long.remainderUnsigned(nextLong(), bound);
  }

  /** Uniform in [lo, hi]. */
  long between(long lo, long hi) {
    if (hi <= lo) return lo;
    return lo + Long.remainderUnsigned(nextLong(), hi - lo + 1);
  }

  /** True with probability {@code p} (exact to 1e-6). */
  boolean chance(double p) {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return Long.remainderUnsigned(nextLong(), 1_000_000) < (long) (p * 1_000_000);
  }

  /** An index drawn with the given integer weights. */
  int weighted(int... weights) {
    int total = 0;
    for (int w : weights) total += w;
    int r = nextInt(total);
    for (int i = 0; i < weights.length; i++) {
      r -= weights[i];
      if (r < 0) return i;
    }
    return weights.length - 1;
  }

  <T> T pick(java.util.List<T> items) {
    return items.get(nextInt(items.size()));
  }
}
