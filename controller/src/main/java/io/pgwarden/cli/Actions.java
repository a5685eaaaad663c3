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
    if (json) {
      out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(op));
    } else {
      out.println(op.kind() + ": " + op.status() + " (" + op.id() + ")");
    }
    out.flush();
    if (waitSeconds > 0 && !"succeeded".equals(op.status())) return follow(c, op, out);
    return Pgwarden.OK;
  }

  /** Prints every state change until the operation settles or --wait runs out. */
  int follow(ApiClient c, Dto.Operation op, PrintWriter out) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(waitSeconds).toNanos();
    Map<Integer, String> seen = new TreeMap<>();
    if (!json) out.print(Tables.render(List.of("Time", "Name", "Node", "Host:Port", "Current State", "Assigned State"),
        List.of()));
    while (System.nanoTime() < deadline) {
      Dto.FormationState s = c.state(formation);
      for (Dto.NodeView n : s.nodes()) {
        String now = n.reportedState() + "/" + n.assignedState();
        if (!now.equals(seen.put(n.nodeId(), now)) && !json) {
          out.printf("%s | %s | %d | %s:%d | %s | %s%n", LocalTime.now().format(DateTimeFormatter.ofPattern("HH:mm:ss")),
              n.name(), n.nodeId(), n.host(), n.port(), n.reportedState(), n.assignedState());
          out.flush();
        }
      }
      Dto.Operation cur = c.operation(formation, op.id());
      if ("succeeded".equals(cur.status()) || "failed".equals(cur.status())) {
        if (!json) out.println(op.kind() + " " + cur.status());
        return "succeeded".equals(cur.status()) ? Pgwarden.OK : Pgwarden.FAILED;
      }
      Thread.sleep(200);
    }
    throw new Pgwarden.UserError(op.kind() + " did not settle within " + waitSeconds + " s",
        "follow it with 'pgwarden show state --watch'; it may still complete");
  }

  Dto.OperatorRequest req(String kind, String node, Boolean allowFailover, Boolean force, Long value, String key) {
    return new Dto.OperatorRequest(kind, node, allowFailover, force, value, reason, key);
  }
}
