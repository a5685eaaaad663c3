package io.pgwarden.sim;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The invariants bite: with each known bug switched in, the simulator finds a violation within a
 * bounded number of seeds (searched in order from seed 1) on a seed that passes without the bug, and it
 * is a violation of an invariant that bug breaks.
 */
class KnownBugsTest {
  static final int MAX_SEEDS = 1000;

  @ParameterizedTest
  @EnumSource(Bugs.class)
  void caughtWithinBoundedSeeds(Bugs bug) {
    assumeTrue(System.getProperty("sim.seed", "").isBlank(), "replaying one seed");
    SimResult found = null;
    int tried = 0;
    for (long seed = 1; seed <= MAX_SEEDS && found == null; seed++) {
      tried++;
      SimResult r = Simulator.run(seed, EnumSet.of(bug), false, false);
      // the bug is what broke it: the same seed without the bug passes
      if (!r.ok() && expected(bug).stream().anyMatch(r.violation().invariant()::startsWith)
          && Simulator.run(seed, EnumSet.noneOf(Bugs.class), false, false).ok()) {
        found = r;
      }
    }
    assertNotNull(found, bug + " was not caught in " + MAX_SEEDS + " seeds");
    System.out.println("KNOWN-BUG " + bug + " caught by seed " + found.seed() + " after " + tried + " seed(s): "
        + found.violation().invariant() + ": " + found.violation().detail());
    List<String> expected = expected(bug);
    String inv = found.violation().invariant();
    assertTrue(expected.stream().anyMatch(inv::startsWith), bug + " broke " + inv + ", expected one of " + expected
        + "\n" + found.report(80));
  }

  /** The invariants each bug is expected to break first. */
  static List<String> expected(Bugs bug) {
    return switch (bug) {
      case REOPEN_WRITES_WITHOUT_LEASE_WAIT, RENEW_WITH_ANY_PEER -> List.of("1-", "2-");
      case GOALS_PER_NODE -> List.of("1-", "2-", "3-", "4-", "5-");
      case ACT_ON_EXPIRED_PERMIT -> List.of("4-expired-permit", "1-", "2-");
      case PROMOTE_OUT_OF_WAIT_PRIMARY -> List.of("2-");
      case TRUST_STALE_STREAMING -> List.of("3-no-failover", "3-");
    };
  }
}
