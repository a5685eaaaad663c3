package io.pgwarden.cli;

import io.pgwarden.lab.Failover;
import io.pgwarden.lab.Lab;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.Timing;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code pgwarden demo}: a whole formation on this machine. A controller (H2 journal) and N keepers run
 * as child processes of this same program ({@code pgwarden run --dir ...}), each keeper with a real
 * PostgreSQL on a free loopback port, under one directory. Ctrl-C stops everything it started (keepers
 * first: each stops its PostgreSQL; then the controller) and removes the temporary directory. With
 * {@code --scenario failover} it plays the failover story by itself and exits 0 when every acknowledged
 * row survived on every node and the old primary acknowledged nothing after the new one took writes.
 */
@Command(name = "demo", description = {
    "Run a local formation on real PostgreSQL: a controller and --nodes keepers as child processes,",
    "PostgreSQL on free loopback ports. Ctrl-C stops everything and cleans up.",
    "With --scenario failover: write rows, kill the primary host, watch the standby take over and the old",
    "primary rejoin, check every row on every node, then exit (0: nothing lost)."})
final class DemoCommand implements Callable<Integer> {
  @Option(names = "--nodes", defaultValue = "2", description = "PostgreSQL nodes: 2 or 3 (default: ${DEFAULT-VALUE})")
  int nodes;

  @Option(names = "--scenario", description = "play a story and exit: failover")
  String scenario;

  @Option(names = "--dir", description = "where everything lives (default: a temporary directory, removed at the"
      + " end; a directory given here is kept)")
  Path dir;

  @Option(names = "--fast", hidden = true, description = "tests: short timeouts and fsync off")
  boolean fast;

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  private long t0;
  private PrintWriter out;

  @Override
  public Integer call() throws Exception {
    out = spec.commandLine().getOut();
    if (nodes < 2 || nodes > 3) throw new Pgwarden.UserError("--nodes " + nodes + " is not supported",
        "give --nodes 2 or --nodes 3", Pgwarden.USAGE);
    if (scenario != null && !scenario.equals("failover")) {
      throw new Pgwarden.UserError("unknown scenario '" + scenario + "'", "the scenario is: failover", Pgwarden.USAGE);
    }
    boolean temporary = dir == null;
    Path root = temporary ? Files.createTempDirectory("pgwarden-demo-") : dir;
    if (!temporary && Files.exists(root) && Files.list(root).findAny().isPresent()) {
      throw new Pgwarden.UserError(root + " is not empty", "give an empty or new --dir");
    }
    Lab.Options o = Lab.Options.defaults(root, temporary);
    if (fast) o = o.withDurable(false).withTiming(Timing.DEFAULT);
    t0 = System.nanoTime();
    say("pgwarden demo: a formation of " + nodes + " PostgreSQL nodes on this machine, under " + root);
    Lab lab = Lab.start(o);
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      say("stopping: keepers first (each stops its PostgreSQL), then the controller");
      lab.close();
      say(temporary ? "stopped; removed " + root : "stopped; everything is kept in " + root);
      out.flush();
      stopped.countDown();
    }, "pgwarden-demo-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    boolean ok;
    try {
      say("controller: pid " + lab.controller().pid() + ", " + lab.controllerUrl() + ", H2 journal in "
          + lab.controllerDir + " (log " + root.resolve("controller.log") + ")");
      for (int i = 1; i <= nodes; i++) {
        Lab.Node n = lab.addNode("node" + i, null);
        say("node" + i + ": registered as node " + n.id() + ", keeper pid " + n.keeper().pid() + ", PostgreSQL on "
            + n.address() + " (log " + root.resolve(n.name + ".log") + ")");
        if (i == 1) {
          Lab.await("node1 single", Duration.ofSeconds(120), () -> n.reached(NodeState.SINGLE));
          say("node1 is a single primary (initdb, started, writes open under its lease)");
        } else {
          Lab.await(n.name + " secondary", Duration.ofSeconds(120), () -> n.reached(NodeState.SECONDARY));
          say(n.name + " is a secondary (cloned with pg_basebackup, streaming)");
        }
      }
      Lab.Node primary = lab.awaitSettled(Duration.ofSeconds(60));
      say("ready: primary " + primary.name + ", synchronous replication on");
      out.println();
      out.print(lab.cli("show", "state", "--dir", lab.controllerDir.toString(), "--formation", lab.formation));
      out.println();
      out.println("postgres URI: " + lab.uri());
      out.println("JDBC URL:     " + lab.api().uris(lab.formation).jdbc());
      out.println("the CLI:      " + "pgwarden show state --dir " + lab.controllerDir + " --formation " + lab.formation);
      out.println();
      out.flush();
      if (scenario == null) {
        say("running; Ctrl-C stops everything");
        stopped.await();
        return Pgwarden.OK;
      }
      long before = System.currentTimeMillis();
      Failover.Result r = Failover.run(lab, Failover.Scenario.HOST_KILL, 1, this::say);
      ok = r.lost() == 0 && r.lateAcks() == 0 && r.rejoinMs() != null;
      out.println();
      out.print(lab.cli("show", "state", "--dir", lab.controllerDir.toString(), "--formation", lab.formation));
      out.println();
      say(String.format(Locale.ROOT, "failover %s: writes back after %.2f s, %d rows acknowledged, %d lost, %d late"
              + " acknowledgements by the old primary; 'pgwarden audit' shows the incident", ok ? "passed" : "FAILED",
          r.unavailableMs() / 1000.0, r.acked(), r.lost(), r.lateAcks()));
      if (!temporary) {
        out.println("  pgwarden audit --dir " + lab.controllerDir + " --formation " + lab.formation
            + "   (once the controller runs again: pgwarden run --dir " + lab.controllerDir + ")");
      } else {
        out.println();
        out.print(lab.cli("audit", "--dir", lab.controllerDir.toString(), "--formation", lab.formation,
            "--since", java.time.Instant.ofEpochMilli(before).toString()));
      }
      out.flush();
    } catch (RuntimeException e) {
      say("failed: " + e.getMessage());
      ok = false;
    }
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
      hook.run();
    } catch (IllegalStateException shuttingDown) {
      stopped.await();
    }
    return ok ? Pgwarden.OK : Pgwarden.FAILED;
  }

  private void say(String line) {
    out.println(String.format(Locale.ROOT, "[%6.2f s] %s", (System.nanoTime() - t0) / 1e9, line));
    out.flush();
  }
}
