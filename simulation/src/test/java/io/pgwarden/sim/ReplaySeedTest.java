package io.pgwarden.sim;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;

/**
 * Replays one seed with its full trace: {@code mvn -B -o -pl simulation -am test -Dtest=ReplaySeedTest
 * -Dsurefire.failIfNoSpecifiedTests=false -Dsim.seed=N} (optionally {@code -Dsim.bugs=BUG,...}). Prints
 * every trace line, the seed's report, and {@code TRACE seed=N events=E hash=H}: two replays, in any two
 * JVMs, print the same hash.
 */
class ReplaySeedTest {
  @Test
  void replay() {
    String seed = System.getProperty("sim.seed", "");
    assumeTrue(!seed.isBlank(), "set -Dsim.seed=N to replay a seed");
    SimResult r = Simulator.run(Long.parseLong(seed.trim()), Simulator.parseBugs(System.getProperty("sim.bugs")),
        true, true);
    for (String l : r.trace().lines()) System.out.println(l);
    System.out.println(r.report(60));
    System.out.println("TRACE seed=" + r.seed() + " events=" + r.events() + " hash=" + r.trace().hash());
  }
}
