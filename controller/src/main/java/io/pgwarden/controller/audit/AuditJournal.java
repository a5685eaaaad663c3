package io.pgwarden.controller.audit;

import io.pgwarden.model.JournalEvent;
import io.pgwarden.persistence.JournalSerializer;
import java.io.NotSerializableException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Reads a formation's events straight from the journal tables pekko-persistence-jdbc writes
 * ({@code event_journal}, H2 or PostgreSQL): one query per persistence id in sequence order, payloads
 * decoded by {@link JournalSerializer}. For an audit without the running controller (a copy of the journal,
 * the benchmark); the controller itself hands the events it reads through its read journal to
 * {@link AuditReplay}.
 */
public final class AuditJournal {
  private static final String IDS = "SELECT DISTINCT \"persistence_id\" FROM \"event_journal\"";
  private static final String STREAM = "SELECT \"sequence_number\", \"event_ser_id\", \"event_ser_manifest\","
      + " %s FROM \"event_journal\" WHERE \"persistence_id\" = ? AND \"deleted\" = FALSE ORDER BY \"sequence_number\"";
  /**
   * H2 keeps a BLOB longer than its in-place limit (256 bytes) in its LOB store, and hands each one to a result
   * set through a temporary LOB reference: casting to VARBINARY in the query reads the bytes in the row
   * instead, about twice as fast. PostgreSQL's bytea needs nothing.
   */
  private static final String H2_PAYLOAD = "CAST(\"event_payload\" AS VARBINARY)";
  private static final String PAYLOAD = "\"event_payload\"";

  private final JournalSerializer serializer = new JournalSerializer();

  /** Every persistence id of the journal, grouped by the formation it belongs to. */
  public SortedMap<String, List<String>> persistenceIdsByFormation(Connection c) throws SQLException {
    TreeMap<String, List<String>> out = new TreeMap<>();
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(IDS)) {
      while (rs.next()) {
        String pid = rs.getString(1);
        String f = RecordedEvent.formationOf(pid);
        if (f != null) out.computeIfAbsent(f, k -> new ArrayList<>()).add(pid);
      }
    }
    for (List<String> l : out.values()) l.sort(null);
    return out;
  }

  /** One persistence id's events in sequence order. */
  public List<RecordedEvent> stream(Connection c, String pid) throws SQLException {
    List<RecordedEvent> out = new ArrayList<>();
    String payload = c.getMetaData().getDatabaseProductName().equalsIgnoreCase("H2") ? H2_PAYLOAD : PAYLOAD;
    try (PreparedStatement ps = c.prepareStatement(String.format(STREAM, payload))) {
      ps.setFetchSize(2_000);
      ps.setString(1, pid);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          long seq = rs.getLong(1);
          out.add(new RecordedEvent(pid, seq, decode(pid, seq, rs.getInt(2), rs.getString(3), rs.getBytes(4))));
        }
      }
    }
    return out;
  }

  JournalEvent decode(String pid, long seq, int serId, String manifest, byte[] payload) {
    if (serId != JournalSerializer.IDENTIFIER) {
      throw new IllegalStateException(pid + " #" + seq + " was written by serializer " + serId + ", not pgwarden's "
          + JournalSerializer.IDENTIFIER);
    }
    try {
      return (JournalEvent) serializer.fromBinary(payload, manifest);
    } catch (NotSerializableException | RuntimeException e) {
      throw new IllegalStateException("cannot read " + pid + " #" + seq + " (" + manifest + "): " + e.getMessage(), e);
    }
  }

  /** Every event of one formation, one stream per persistence id. */
  public List<List<RecordedEvent>> formationStreams(Connection c, List<String> pids) throws SQLException {
    List<List<RecordedEvent>> out = new ArrayList<>();
    for (String pid : pids) out.add(stream(c, pid));
    return out;
  }

  /** Reads the formation's events and replays them. */
  public AuditReport audit(Connection c, String formation, List<String> pids, AuditQuery q) throws SQLException {
    AuditFold fold = new AuditFold(formation, q);
    var it = AuditReplay.merge(formationStreams(c, pids));
    while (it.hasNext()) fold.accept(it.next());
    return fold.report();
  }

  /** Reads and replays the formation, finding its persistence ids first. */
  public AuditReport audit(Connection c, String formation, AuditQuery q) throws SQLException {
    List<String> pids = persistenceIdsByFormation(c).getOrDefault(formation, List.of());
    return audit(c, formation, pids, q);
  }
}
