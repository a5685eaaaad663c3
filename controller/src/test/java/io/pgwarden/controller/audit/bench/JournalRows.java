package io.pgwarden.controller.audit.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgwarden.controller.audit.RecordedEvent;
import io.pgwarden.persistence.JournalSerializer;
import io.pgwarden.persistence.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Iterator;

/**
 * Writes journal rows as pekko-persistence-jdbc does: {@code event_journal} (the database assigns
 * {@code ordering}; {@code adapter_manifest} empty; serializer id {@link JournalSerializer#IDENTIFIER};
 * manifest the event's stable type name; payload {@code Json.writeEvent}), then one {@code event_tag} row per
 * event ("formation" for the supervisor's events, "node" for the node actors').
 */
public final class JournalRows {
  /** One row ready to insert. */
  public record Row(String persistenceId, long sequenceNr, long at, String manifest, byte[] payload) {
    public static Row of(RecordedEvent e) {
      return new Row(e.persistenceId(), e.sequenceNr(), e.at(), JournalSerializer.typeName(e.event().getClass()),
          Json.writeEvent(e.event()));
    }

    /** The same event for another formation, {@code shiftMs} later. */
    public static Row moved(RecordedEvent e, ObjectNode tree, String formation, long shiftMs) {
      String pid = e.nodeId() == null ? RecordedEvent.formationPid(formation)
          : RecordedEvent.nodePid(formation, e.nodeId());
      long at = e.at() + shiftMs;
      tree.put("at", at);
      if (tree.has("formation")) tree.put("formation", formation);
      try {
        return new Row(pid, e.sequenceNr(), at, JournalSerializer.typeName(e.event().getClass()),
            Json.MAPPER.writeValueAsBytes(tree));
      } catch (IOException x) {
        throw new UncheckedIOException(x);
      }
    }
  }

  private static final String INSERT = "INSERT INTO \"event_journal\" (\"persistence_id\", \"sequence_number\","
      + " \"deleted\", \"writer\", \"write_timestamp\", \"adapter_manifest\", \"event_ser_id\", \"event_ser_manifest\","
      + " \"event_payload\") VALUES (?, ?, FALSE, ?, ?, '', ?, ?, ?)";
  private static final String TAGS = "INSERT INTO \"event_tag\" (\"event_id\", \"tag\") SELECT \"ordering\","
      + " CASE WHEN \"persistence_id\" LIKE 'formation|%' THEN 'formation' ELSE 'node' END FROM \"event_journal\"";

  private JournalRows() {}

  /** Inserts every row in the order given, in batches; returns how many. */
  public static long write(Connection c, Iterator<Row> rows, String writer) throws SQLException {
    boolean auto = c.getAutoCommit();
    c.setAutoCommit(false);
    long n = 0;
    try (PreparedStatement ps = c.prepareStatement(INSERT)) {
      while (rows.hasNext()) {
        Row r = rows.next();
        ps.setString(1, r.persistenceId());
        ps.setLong(2, r.sequenceNr());
        ps.setString(3, writer);
        ps.setLong(4, r.at());
        ps.setInt(5, JournalSerializer.IDENTIFIER);
        ps.setString(6, r.manifest());
        ps.setBytes(7, r.payload());
        ps.addBatch();
        if (++n % 1_000 == 0) ps.executeBatch();
        if (n % 50_000 == 0) c.commit();
      }
      ps.executeBatch();
    }
    try (Statement st = c.createStatement()) {
      st.executeUpdate(TAGS);
    }
    c.commit();
    c.setAutoCommit(auto);
    return n;
  }
}
