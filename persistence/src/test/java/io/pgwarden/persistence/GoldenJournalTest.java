package io.pgwarden.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgwarden.model.JournalEvent;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Stored journals must stay readable by every later build: the golden files are rows as the journal
 * stores them (serializer id, manifest, JSON payload), written once and never regenerated.
 */
class GoldenJournalTest {
  static final List<String> GOLDEN = List.of("/golden/journal-v1.jsonl");

  static List<JsonNode> rows(String resource) throws IOException {
    try (InputStream in = GoldenJournalTest.class.getResourceAsStream(resource)) {
      List<JsonNode> out = new ArrayList<>();
      for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
        if (!line.isBlank()) out.add(Json.MAPPER.readTree(line));
      }
      return out;
    }
  }

  @Test
  void everyGoldenRowStillReadsAndWritesBackTheSameJson() throws Exception {
    JournalSerializer ser = new JournalSerializer();
    for (String g : GOLDEN) {
      for (JsonNode row : rows(g)) {
        assertEquals(JournalSerializer.IDENTIFIER, row.get("ser_id").asInt());
        byte[] payload = Json.MAPPER.writeValueAsBytes(row.get("payload"));
        Object event = ser.fromBinary(payload, row.get("manifest").asText());
        assertTrue(event instanceof JournalEvent, g + ": " + row);
        assertEquals(row.get("manifest").asText(), ser.manifest(event));
        assertEquals(row.get("payload"), Json.MAPPER.readTree(ser.toBinary(event)), "payload drifted for " + row);
      }
    }
  }

  @Test
  void everyEventTypeIsCoveredByAGoldenFile() throws Exception {
    Set<String> seen = new TreeSet<>();
    for (String g : GOLDEN) {
      for (JsonNode row : rows(g)) seen.add(row.get("manifest").asText());
    }
    assertEquals(new TreeSet<>(JournalSerializer.types().keySet()), seen,
        "a new event type needs a new golden file (see GoldenJournalWriter)");
  }

  @Test
  void unknownManifestIsRefused() {
    org.junit.jupiter.api.Assertions.assertThrows(java.io.NotSerializableException.class,
        () -> new JournalSerializer().fromBinary("{}".getBytes(StandardCharsets.UTF_8), "no-such-event"));
  }
}
