package io.pgwarden.persistence;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgwarden.model.JournalEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a golden journal file from {@link SampleEvents}. Run by hand only when a new event type is
 * added, into a NEW file (journal-vN.jsonl): existing golden files are history and never rewritten.
 */
public final class GoldenJournalWriter {
  public static void main(String[] args) throws Exception {
    Path out = Path.of(args[0]);
    List<String> lines = new ArrayList<>();
    long seq = 0;
    for (JournalEvent e : SampleEvents.all()) {
      ObjectNode row = Json.MAPPER.createObjectNode();
      row.put("persistence_id", e instanceof io.pgwarden.model.NodeEvent ? "node|default|1" : "formation|default");
      row.put("sequence_number", ++seq);
      row.put("ser_id", JournalSerializer.IDENTIFIER);
      row.put("manifest", JournalSerializer.typeName(e.getClass()));
      row.set("payload", Json.MAPPER.readTree(Json.writeEvent(e)));
      lines.add(Json.MAPPER.writeValueAsString(row));
    }
    Files.write(out, lines);
  }
}
