package io.pgwarden.sim;

/**
 * One host's clocks as functions of true simulated time (microseconds): a monotonic and a wall clock
 * that run at 1 + ppm/10^6 of true time, whose wall clock can be stepped, and whose monotonic clock can
 * stop while the host is suspended. Integer arithmetic only, so every JVM computes the same readings.
 */
final class Clock {
  private long anchorTrue;
  private long anchorMono;
  private long anchorWall;
  private long ppm;
  private boolean monoFrozen;

  Clock(long trueNow, long monoStartUs, long wallStartUs) {
    anchorTrue = trueNow;
    anchorMono = monoStartUs;
    anchorWall = wallStartUs;
  }

  private long elapsed(long t) {
    long d = t - anchorTrue;
    return d + d * ppm / 1_000_000;
  }

  long monoUs(long t) {
    return monoFrozen ? anchorMono : anchorMono + elapsed(t);
  }

  long wallUs(long t) {
    return anchorWall + elapsed(t);
  }

  long monoMs(long t) {
    return Math.floorDiv(monoUs(t), 1000);
  }

  long wallMs(long t) {
    return Math.floorDiv(wallUs(t), 1000);
  }

  long ppm() {
    return ppm;
  }

  private void reanchor(long t) {
    anchorMono = monoUs(t);
    anchorWall = wallUs(t);
    anchorTrue = t;
  }

  void setRate(long t, long newPpm) {
    reanchor(t);
    ppm = newPpm;
  }

  void stepWall(long t, long deltaUs) {
    reanchor(t);
    anchorWall += deltaUs;
  }

  /** A suspend: the monotonic clock stops (CLOCK_MONOTONIC does not count suspended time). */
  void freezeMono(long t) {
    reanchor(t);
    monoFrozen = true;
  }

  void thawMono(long t) {
    long m = anchorMono;
    reanchor(t);
    anchorMono = m;
    monoFrozen = false;
  }

  /** True time after {@code t} at which {@code localDelayUs} will have passed on this clock. */
  long trueDelay(long localDelayUs) {
    if (localDelayUs <= 0) return 0;
    // local = d + d*ppm/1e6  =>  d = local * 1e6 / (1e6 + ppm), rounded up
    long den = 1_000_000 + ppm;
    return (localDelayUs * 1_000_000 + den - 1) / den;
  }
}
