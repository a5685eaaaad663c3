package io.pgwarden.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgwarden.api.Dto;
import io.pgwarden.lab.Failover;
import io.pgwarden.lab.Lab;
import io.pgwarden.lab.Writer;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.Timing;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Shared pieces of the end-to-end tests: a {@link Lab} of real processes (controller and keepers as child
 * JVMs, real PostgreSQL), faster timeouts than the defaults where a scenario does not need them, the
 * client writer whose acknowledged rows are looked for on every node at the end, and the trace of every
 * run (journal events, reports, replies) written to {@code target/e2e-traces/<name>.jsonl}.
 */
final class E2e {
  private E2e() {}

  /**
   * Faster than the defaults, with room for a loaded 2-core machine running a controller, three keeper
   * JVMs, three PostgreSQL servers and the test: reports every 200 ms, lease 1.5 s (certainly over
   * 1.675 s after its grant), silence 1.5 s.
   */
  static final Timing FAST = new Timing(200, 1_500, 50_000, 100, 1_500, 250, 300, 1_000, 3_000, 1_000, 50, 500,
      16L * 1024 * 1024);
  static final Duration WAIT = Duration.ofSeconds(90);

  /** A lab with {@code nodes} nodes, settled (primary and secondaries), priorities as given (null: default). */
  static Lab lab(String name, Timing t, Integer... priorities) throws Exception {
    return lab(name, t, false, priorities);
  }

  /** As above; {@code netns}: every host in its own network namespace (see {@link io.pgwarden.lab.Net}). */
  static Lab lab(String name, Timing t, boolean netns, Integer... priorities) throws Exception {
    Path root = Files.createTempDirectory("pgw-e2e-" + name + "-");
    say("lab " + name + " in " + root);
    Lab lab = Lab.start(Lab.Options.defaults(root, true).withTiming(t).withDurable(false).withTrace(true)
        .withNetns(netns ? priorities.length : 0));
    try {
      for (int i = 0; i < priorities.length; i++) {
        Lab.Node n = lab.addNode("node" + (i + 1), priorities[i]);
        if (i == 0) {
          Lab.await("node1 single", WAIT, () -> n.reached(NodeState.SINGLE));
          n.allowTester();
        } else {
          Lab.await(n.name + " secondary", WAIT, () -> n.reached(NodeState.SECONDARY));
        }
      }
      Lab.Node p = lab.awaitSettled(WAIT);
      try (Connection c = p.connect()) {
        Writer.createTable(c);
      }
    } catch (Exception | Error e) {
      lab.keep();
      lab.close();
      throw e;
    }
    return lab;
  }

  /** Writes the trace of {@code lab} to target/e2e-traces/{@code name}.jsonl. */
  static void trace(Lab lab, String name) {
    try {
      lab.writeTrace(Path.of("target", "e2e-traces", name + ".jsonl"));
      // the decision core's inputs, for the simulation to replay (simulation: RecordedDecisionTraceTest)
      if (lab.decisionTrace() != null) {
        java.nio.file.Files.copy(lab.decisionTrace(), Path.of("target", "e2e-traces", name + ".decisions.jsonl"),
            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (Exception e) {
      System.err.println("trace of " + name + " not written: " + e);
    }
  }

  /** A progress line: to the test's output and, as it happens, to target/e2e-traces/progress.log. */
  static synchronized void say(String line) {
    String l = java.time.LocalTime.now() + " " + line;
    System.out.println("E2E " + l);
    try {
      Path p = Path.of("target", "e2e-traces", "progress.log");
      Files.createDirectories(p.getParent());
      Files.writeString(p, l + "\n", java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
    } catch (java.io.IOException e) {
      // progress is a convenience
    }
  }

  /** A client writer through the multi-host URL; {@link #check} looks for every acknowledged row on every node. */
  static Writer writer(Lab lab, long firstId) {
    Writer w = Writer.client(lab, 20, firstId).start();
    Lab.await("the client writes", WAIT, () -> w.acks().size() >= 10);
    return w;
  }

  /** Stops {@code w} and asserts every row it saw acknowledged is on every node (waiting up to 20 s each). */
  static void check(Lab lab, Writer w) throws Exception {
    w.close();
    List<Writer.Ack> acked = w.acks();
    List<String> per = new ArrayList<>();
    for (Lab.Node n : lab.nodes()) {
      long deadline = System.nanoTime() + 20_000_000_000L;
      List<Long> missing;
      while (true) {
        try (Connection c = n.connect()) {
          missing = Writer.missing(c, acked);
        } catch (java.sql.SQLException e) {
          missing = List.of(-1L);
        }
        if (missing.isEmpty() || System.nanoTime() > deadline) break;
        Lab.sleep(100);
      }
      per.add(n.name + ": " + (acked.size() - missing.size()) + "/" + acked.size());
      assertEquals(List.of(), missing, "acknowledged rows missing on " + n.name);
    }
    say("rows: " + acked.size() + " acknowledged, all on every node (" + String.join(", ", per) + "); "
        + w.failures() + " failed inserts");
  }

  /** Asserts a failover run kept every promise: nothing lost, nothing acknowledged late by the old primary. */
  static void assertSafe(Failover.Result r) {
    say(r.json());
    assertEquals(0, r.lost(), "acknowledged rows lost");
    assertEquals(0, r.lateSyncAcks(), "the old primary acknowledged synchronous commits after the new one's first");
    assertTrue(r.acked() > 50, "the client wrote");
  }

  /** Every decided event of the formation, oldest first. */
  static List<Dto.EventView> decisions(Lab lab) {
    List<Dto.EventView> all = new ArrayList<>();
    Long before = null;
    while (true) {
      Dto.EventPage p = lab.api().events(lab.formation, before, null, 1000);
      for (Dto.EventView e : p.events()) {
        if (e.type().equals("decided")) all.add(e);
      }
      if (p.nextBefore() == null || p.events().isEmpty()) break;
      before = p.nextBefore();
    }
    all.sort(java.util.Comparator.comparingLong(Dto.EventView::ordering));
    return all;
  }

  static List<String> rulesSince(Lab lab, long wall) {
    return decisions(lab).stream().filter(e -> e.at() >= wall).map(e -> e.event().path("rule").asText()).toList();
  }

  static long count(List<String> rules, String prefix) {
    return rules.stream().filter(r -> r.startsWith(prefix)).count();
  }

  static String secs(long ms) {
    return String.format(Locale.ROOT, "%.2f s", ms / 1000.0);
  }
}
