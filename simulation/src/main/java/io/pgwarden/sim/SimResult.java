package io.pgwarden.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** What one seed's run ended with: its first violation (or none), its trace and its coverage. */
record SimResult(long seed, SimConfig cfg, Invariants.Violation violation, Trace trace, Stats stats, long events,
    long endUs) {

  boolean ok() {
    return violation == null;
  }

  /** A failing seed's report: the invariant, the seed, how to replay it, and the last events. */
  String report(int lastLines) {
    List<String> out = new ArrayList<>();
    if (violation == null) {
      out.add("seed " + seed + ": ok (" + events + " events, " + endUs / 1_000_000 + " virtual s)");
    } else {
      out.add(String.format(Locale.ROOT, "VIOLATION of invariant %s in seed %d at %.3f s: %s", violation.invariant(),
          seed, violation.atUs() / 1_000_000.0, violation.detail()));
      out.add("replay: mvn -B -o -pl simulation -am test -Dtest=ReplaySeedTest -Dsurefire.failIfNoSpecifiedTests=false"
          + " -Dsim.seed=" + seed
          + (cfg.bugs().isEmpty() ? "" : " -Dsim.bugs=" + String.join(",", cfg.bugs().stream().map(Enum::name)
          .toList())));
      out.add("last " + lastLines + " events:");
      out.addAll(trace.last(lastLines));
    }
    return String.join("\n", out);
  }
}
