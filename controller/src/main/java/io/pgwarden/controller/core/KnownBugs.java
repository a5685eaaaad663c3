package io.pgwarden.controller.core;

import java.util.EnumSet;
import java.util.Set;

/**
 * Test-only switches that put known bugs back into the decision core, so that the deterministic
 * simulator can show that its invariants catch each of them (docs/simulation.md). Every switch is off
 * unless a simulation thread turns it on for itself; production code never does, and a thread that never
 * touches this class sees the real rules.
 */
public final class KnownBugs {
  public enum Bug {
    /** Writes move to a promoted node without waiting for the old primary's lease to run out. */
    REOPEN_WRITES_WITHOUT_LEASE_WAIT,
    /** Automatic failover out of wait_primary, whatever the confirmed quorum says. */
    PROMOTE_OUT_OF_WAIT_PRIMARY,
    /** A standby's "streaming" is believed however old its last message is. */
    TRUST_STALE_STREAMING
  }

  private static final ThreadLocal<Set<Bug>> ON = ThreadLocal.withInitial(() -> EnumSet.noneOf(Bug.class));
  private static volatile boolean anyEver;

  private KnownBugs() {}

  /** Switches exactly {@code bugs} on for the calling thread (an empty set switches all off). */
  public static void enableForThisThread(Set<Bug> bugs) {
    if (!bugs.isEmpty()) anyEver = true;
    ON.set(bugs.isEmpty() ? EnumSet.noneOf(Bug.class) : EnumSet.copyOf(bugs));
  }

  static boolean on(Bug b) {
    return anyEver && ON.get().contains(b);
  }
}
