package io.pgwarden.controller.actor;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgwarden.model.NodeReport;
import io.pgwarden.model.ReportReply;
import io.pgwarden.model.TermSeq;
import io.pgwarden.persistence.Json;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Every report the controller receives and every answer it sends, one JSON object a line, when the
 * environment names a file in {@code PGWARDEN_TRACE_FILE} (the end-to-end tests do; see
 * docs/simulation-traces.md). Heartbeats are never journaled, so this is the only record of them.
 * Off by default: a disabled trace costs one null check.
 */
final class ReportTrace {
  static final ReportTrace INSTANCE = open(System.getenv("PGWARDEN_TRACE_FILE"));

  private final BufferedWriter out;

  private ReportTrace(BufferedWriter out) {
    this.out = out;
  }

  private static ReportTrace open(String file) {
    if (file == null || file.isBlank()) return new ReportTrace(null);
    try {
      return new ReportTrace(Files.newBufferedWriter(Path.of(file), StandardCharsets.UTF_8,
          StandardOpenOption.CREATE, StandardOpenOption.APPEND));
    } catch (IOException e) {
      throw new IllegalStateException("cannot open the trace file " + file + ": " + e.getMessage(), e);
    }
  }

  boolean enabled() {
    return out != null;
  }

  void received(String formation, int nodeId, NodeReport r, TermSeq known, long waitMs) {
    if (out == null) return;
    ObjectNode o = line("report", formation, nodeId);
    o.put("known", known == null ? null : known.toString());
    o.put("wait_ms", waitMs);
    o.set("report", Json.MAPPER.valueToTree(r));
    write(o);
  }

  void answered(String formation, int nodeId, ReportReply reply) {
    if (out == null) return;
    ObjectNode o = line("reply", formation, nodeId);
    o.set("reply", Json.MAPPER.valueToTree(reply));
    write(o);
  }

  private static ObjectNode line(String kind, String formation, int nodeId) {
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("kind", kind);
    o.put("at", System.currentTimeMillis());
    o.put("mono_ms", System.nanoTime() / 1_000_000);
    o.put("formation", formation);
    o.put("node", nodeId);
    return o;
  }

  private synchronized void write(ObjectNode o) {
    try {
      out.write(Json.MAPPER.writeValueAsString(o));
      out.newLine();
      out.flush();
    } catch (IOException e) {
      // a trace is a test aid: never let it break the controller
    }
  }
}
