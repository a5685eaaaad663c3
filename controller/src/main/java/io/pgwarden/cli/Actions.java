package io.pgwarden.cli;

import io.pgwarden.api.ApiClient;
import io.pgwarden.api.Dto;
import io.pgwarden.persistence.Json;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Shared shape of the commands that ask the controller for an operator action and follow it. */
abstract class Actions implements Callable<Integer> {
  @Mixin
  Pgwarden.Connection conn;

  @Option(names = "--formation", defaultValue = "default", description = "formation name (default: ${DEFAULT-VALUE})")
  String formation;

  @Option(names = "--reason", defaultValue = "", description = "why: recorded in the journal with your token's name")
  String reason;

  @Option(names = "--wait", defaultValue = "60", description = "seconds to follow the change (0: do not wait)")
  int waitSeconds;

  @Option(names = "--json", description = "print the operation as JSON")
  boolean json;

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  abstract Dto.OperatorRequest request(String idempotencyKey);

  @Override
  public Integer call() throws Exception {
    ApiClient c = conn.client();
    PrintWriter out = spec.commandLine().getOut();
    Dto.Operation op = c.perform(formation, request("cli-" + UUID.randomUUID()));
    if (!json) {
      out.println(op.kind() + (op.node() == null ? "" : " of " + op.node()) + ": " + op.status() + " (" + op.id()
          + ")");
      out.flush();
    }
    if (waitSeconds > 0 && !settled(op)) op = follow(c, op, out);
    if (json) out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(op));
    out.flush();
    if ("failed".equals(op.status())) {
      throw new Pgwarden.UserError(op.kind() + " failed" + (op.message() == null || op.message().isEmpty() ? ""
          : ": " + op.message()), "see why with 'pgwarden show events --formation " + formation + "'");
    }
    return Pgwarden.OK;
  }

  private static boolean settled(Dto.Operation op) {
    return "succeeded".equals(op.status()) || "failed".equals(op.status());
  }

  private static final List<String> PROGRESS = List.of("Time", "Name", "Node", "Host:Port", "Reported State",
      "Assigned State");

  /**
   * Prints a line each time a node's reported or assigned state changes, until the operation settles
   * (returned) or --wait runs out (a UserError).
   */
  Dto.Operation follow(ApiClient c, Dto.Operation op, PrintWriter out) throws InterruptedException {
    long started = System.nanoTime();
    long deadline = started + Duration.ofSeconds(waitSeconds).toNanos();
    Map<Integer, String> seen = new TreeMap<>();
    int[] widths = null;
    while (true) {
      Dto.FormationState s = c.state(formation);
      if (!json) {
        if (widths == null) {
          widths = widths(s);
          out.println(Tables.line(PROGRESS, widths));
          out.println(Tables.rule(widths));
        }
        for (Dto.NodeView n : s.nodes()) {
          String reported = n.reportedState() == null ? "?" : n.reportedState().wireName();
          String now = reported + "/" + n.assignedState().wireName();
          if (!now.equals(seen.put(n.nodeId(), now))) {
            out.println(Tables.line(List.of(LocalTime.now().format(CLOCK), n.name(), String.valueOf(n.nodeId()),
                n.host() + ":" + n.port(), reported, n.assignedState().wireName()), widths));
          }
        }
        out.flush();
      }
      Dto.Operation cur = c.operation(formation, op.id());
      if (settled(cur)) {
        if (!json) out.printf("%s %s in %.1f s%n", op.kind(), cur.status(), (System.nanoTime() - started) / 1e9);
        return cur;
      }
      if (System.nanoTime() > deadline) break;
      Thread.sleep(100);
    }
    out.flush();
    throw new Pgwarden.UserError(op.kind() + " (" + op.id() + ") did not settle within " + waitSeconds + " s",
        "follow it with 'pgwarden show state --watch --formation " + formation + "'; it may still complete");
  }

  private static int[] widths(Dto.FormationState s) {
    int[] w = new int[PROGRESS.size()];
    for (int i = 0; i < w.length; i++) w[i] = PROGRESS.get(i).length();
    w[0] = Math.max(w[0], 12);
    w[4] = Math.max(w[4], 19); // the longest state name, prepare_maintenance
    w[5] = Math.max(w[5], 19);
    for (Dto.NodeView n : s.nodes()) {
      w[1] = Math.max(w[1], n.name().length());
      w[2] = Math.max(w[2], String.valueOf(n.nodeId()).length());
      w[3] = Math.max(w[3], (n.host() + ":" + n.port()).length());
    }
    return w;
  }

  private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");

  Dto.OperatorRequest req(String kind, String node, Boolean allowFailover, Boolean force, Long value, String key) {
    return new Dto.OperatorRequest(kind, node, allowFailover, force, value, reason, key);
  }
}
