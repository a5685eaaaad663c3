package io.pgwarden.lab;

import io.pgwarden.model.Timing;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The failover benchmark ({@code bench/failover/run.sh}): for each scenario a two-node formation of real
 * processes on default settings, N faults in a row (each on whichever node is primary then), every run
 * measured by {@link Failover}. Prints one line per run, one RESULT line per scenario, and writes every
 * run to a JSON file.
 */
public final class FailoverBench {
  private FailoverBench() {}

  public static void main(String[] args) throws Exception {
    int runs = 10;
    String scenario = "all";
    Path out = Path.of("bench/failover/results/latest.json");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--scenario" -> scenario = args[++i];
        case "--out" -> out = Path.of(args[++i]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]
            + " (--runs N --scenario host-kill|host-stall|pg-crash|switchover|all|stall-envelope --out FILE)");
      }
    }
    if (scenario.equals("stall-envelope")) {
      envelope();
      return;
    }
    List<Failover.Scenario> scenarios = new ArrayList<>();
    if (scenario.equals("all")) {
      scenarios.addAll(List.of(Failover.Scenario.values()));
    } else {
      scenarios.add(Failover.Scenario.of(scenario));
    }
    Timing t = Timing.DEFAULT;
    System.out.println("# failover benchmark " + Instant.now() + ": " + runs + " run(s) of " + scenarios.size()
        + " scenario(s); " + Runtime.getRuntime().availableProcessors() + " cores, load average "
        + String.format(Locale.ROOT, "%.2f", java.lang.management.ManagementFactory.getOperatingSystemMXBean()
            .getSystemLoadAverage()) + ", Java " + System.getProperty("java.version"));
    System.out.println("# timing (defaults): report " + t.reportIntervalMs() + " ms, lease " + t.leaseMs()
        + " ms, silence " + t.silenceMs() + " ms, probe " + t.probeIntervalMs() + "/" + t.probeTimeoutMs()
        + " ms, permit " + t.permitMs() + " ms; PostgreSQL fsync on");
    System.out.println("# writer: one INSERT every 20 ms, autocommit, JDBC " + Writer.CLIENT_PARAMS
        + " (connectTimeout, socketTimeout, loginTimeout in s); adversary: straight to the old primary,"
        + " synchronous_commit = local");
    List<String> json = new ArrayList<>();
    List<String> results = new ArrayList<>();
    for (Failover.Scenario sc : scenarios) {
      Path root = Files.createTempDirectory("pgwarden-bench-" + sc.label + "-");
      List<Failover.Result> rs = new ArrayList<>();
      try (Lab lab = twoNodes(root)) {
        for (int run = 1; run <= runs; run++) {
          int r = run;
          Failover.Result res;
          try {
            res = Failover.run(lab, sc, run, line -> System.out.println("  [" + sc.label + " " + r + "] " + line));
          } catch (Exception | Error e) {
            System.out.println("  [" + sc.label + " " + r + "] FAILED: " + e + " (logs kept in " + root + ")");
            lab.keep();
            json.add("{\"scenario\":\"" + sc.label + "\",\"run\":" + run + ",\"failed\":\""
                + String.valueOf(e.getMessage()).replace("\"", "'") + "\"}");
            break;
          }
          rs.add(res);
          json.add(res.json());
          System.out.println("RUN " + res.json());
          Lab.sleep(3_000); // leases and reports settle before the next fault
        }
      }
      String line = resultLine(sc.label, rs);
      results.add(line);
      System.out.println(line);
    }
    Files.createDirectories(out.toAbsolutePath().getParent());
    Files.writeString(out, "[\n  " + String.join(",\n  ", json) + "\n]\n");
    System.out.println("# runs written to " + out);
    for (String r : results) System.out.println(r);
  }

  /**
   * The stall envelope on default settings: the primary's keeper alone, then its whole node, SIGSTOPped
   * for growing times; one line per stall with the failovers it caused.
   */
  static void envelope() throws Exception {
    System.out.println("# stall envelope " + Instant.now() + ", default timing, fsync on");
    Path root = Files.createTempDirectory("pgwarden-bench-envelope-");
    try (Lab lab = twoNodes(root)) {
      int run = 100;
      for (long ms : List.of(2_000L, 6_000L, 20_000L)) {
        System.out.println(Failover.stall(lab, false, ms, run++).line());
      }
      for (long ms : List.of(500L, 1_000L, 1_500L, 2_000L, 2_500L, 3_000L, 4_000L, 8_000L)) {
        System.out.println(Failover.stall(lab, true, ms, run++).line());
        Lab.sleep(3_000);
      }
    }
  }

  /** A two-node formation of real processes under {@code root}, settled: node1 primary, node2 secondary. */
  static Lab twoNodes(Path root) throws Exception {
    Lab lab = Lab.start(Lab.Options.defaults(root, true));
    try {
      lab.addNode("node1", null);
      Lab.await("node1 single", Duration.ofSeconds(120), () -> lab.node("node1").reached(
          io.pgwarden.model.NodeState.SINGLE));
      lab.addNode("node2", null);
      lab.awaitSettled(Duration.ofSeconds(120));
      return lab;
    } catch (Exception | Error e) {
      lab.close();
      throw e;
    }
  }

  static String resultLine(String name, List<Failover.Result> rs) {
    List<Long> un = new ArrayList<>();
    List<Long> gap = new ArrayList<>();
    List<Long> rejoin = new ArrayList<>();
    long lost = 0;
    long late = 0;
    for (Failover.Result r : rs) {
      un.add(r.unavailableMs());
      gap.add(r.gapMs());
      if (r.rejoinMs() != null) rejoin.add(r.rejoinMs());
      lost += r.lost();
      late += r.lateAcks();
    }
    return String.format(Locale.ROOT, "RESULT scenario=%s runs=%d unavailable_s_p50=%s unavailable_s_p95=%s"
            + " unavailable_s_max=%s gap_s_p50=%s rows_lost=%d late_acks=%d rejoin_s_p50=%s", name, rs.size(),
        s(pct(un, 50)), s(pct(un, 95)), s(pct(un, 100)), s(pct(gap, 50)), lost, late, s(pct(rejoin, 50)));
  }

  /** Nearest-rank percentile; null for no values. */
  static Long pct(List<Long> v, int p) {
    if (v.isEmpty()) return null;
    List<Long> s = new ArrayList<>(v);
    s.sort(null);
    int rank = (int) Math.ceil(p / 100.0 * s.size());
    return s.get(Math.max(0, rank - 1));
  }

  static String s(Long ms) {
    return ms == null ? "-" : String.format(Locale.ROOT, "%.2f", ms / 1000.0);
  }
}
