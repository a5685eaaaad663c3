package io.pgwarden.controller.actor;

import io.pgwarden.controller.core.DecisionTraceLines;
import io.pgwarden.controller.core.Input;
import io.pgwarden.controller.core.Now;
import io.pgwarden.model.FormationEvent;
import io.pgwarden.model.Timing;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * A formation supervisor's decision trace (DecisionTraceLines), appended to
 * {@code $PGWARDEN_DECISION_TRACE_DIR/<formation>.decisions.jsonl} when that variable is set (the lab sets
 * it for the end-to-end tests, whose traces the simulation then replays). Off by default; a disabled tap
 * costs one null check per input. A trace is a test aid: an I/O error disables it, never the controller.
 */
final class DecisionTap {
  private static final String DIR = System.getenv("PGWARDEN_DECISION_TRACE_DIR");

  private final String formation;
  private FileChannel out;

  private DecisionTap(String formation, FileChannel out) {
    this.formation = formation;
    this.out = out;
  }

  static DecisionTap forFormation(String formation) {
    if (DIR == null || DIR.isBlank()) return new DecisionTap(formation, null);
    try {
      Files.createDirectories(Path.of(DIR));
      return new DecisionTap(formation, FileChannel.open(Path.of(DIR, formation + ".decisions.jsonl"),
          StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND));
    } catch (IOException e) {
      return new DecisionTap(formation, null);
    }
  }

  void restart(long epoch, long bootMono, long journalEvents, Timing timing) {
    if (out != null) write(List.of(DecisionTraceLines.restart(formation, epoch, bootMono, journalEvents, timing)));
  }

  void input(Now now, Input in, List<FormationEvent> events) {
    if (out != null) write(DecisionTraceLines.input(now, in, events));
  }

  void reply(Now now, int nodeId) {
    if (out != null) write(List.of(DecisionTraceLines.reply(now, nodeId)));
  }

  /**
   * One input and its events in one write: a controller killed (the end-to-end tests SIGKILL it) leaves
   * whole records behind it, never half of one.
   */
  private void write(List<String> lines) {
    StringBuilder sb = new StringBuilder();
    for (String l : lines) sb.append(l).append('\n');
    try {
      ByteBuffer b = ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.UTF_8));
      while (b.hasRemaining()) out.write(b);
    } catch (IOException e) {
      out = null;
    }
  }
}
