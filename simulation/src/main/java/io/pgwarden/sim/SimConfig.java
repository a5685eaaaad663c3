package io.pgwarden.sim;

import io.pgwarden.model.Timing;
import java.util.EnumSet;
import java.util.Set;

/**
 * What one seed draws before anything runs: the group's size, PostgreSQL's settings, the clients, and
 * the known bugs switched in (none in the normal sweep).
 */
record SimConfig(long seed, int nodes, Timing timing, SimPg.Settings pg, int clients, long faultWindowMs,
    long settleMs, Set<Bugs> bugs) {

  static final long WARMUP_MS = 25_000;
  static final long FAULT_WINDOW_MS = 600_000;
  /** Invariant 3's bound: after the last fault ends, the group converges within this. */
  static final long CONVERGE_MS = 60_000;

  static SimConfig draw(long seed, Rng rng, Set<Bugs> bugs) {
    int nodes = rng.chance(0.3) ? 2 : 3;
    long[] receiverTimeouts = {2_000, 5_000, 60_000};
    long wrt = receiverTimeouts[rng.weighted(4, 3, 3)];
    long wst = receiverTimeouts[rng.weighted(4, 3, 3)];
    long retry = rng.chance(0.5) ? 200 : 5_000;
    SimPg.Settings pg = new SimPg.Settings(wrt, wst, retry, rng.chance(0.5));
    return new SimConfig(seed, nodes, Timing.DEFAULT, pg, 2, FAULT_WINDOW_MS, CONVERGE_MS,
        bugs.isEmpty() ? EnumSet.noneOf(Bugs.class) : EnumSet.copyOf(bugs));
  }
}
