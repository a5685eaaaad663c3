package io.pgwarden.persistence.read;

import io.pgwarden.model.JournalEvent;
import io.pgwarden.persistence.JournalSerializer;
import io.pgwarden.persistence.JournalStore;
import io.pgwarden.persistence.Json;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;

/**
 * The read side of the journal, over plain JDBC (not the Pekko query API): what {@code /events}, the
 * live event stream and the audit read. Works on H2 and PostgreSQL with the same SQL (the H2 schema
 * quotes its lowercase identifiers; quoted lowercase names are also what PostgreSQL folds to).
 *
 * <p>Facts it relies on: the FormationSupervisor persists as {@code formation|<name>}, a NodeActor as
 * {@code node|<formation>|<nodeId>}, and every event of a formation carries the tag
 * {@code formation:<name>} (the event_tag row's event_id is the event's ordering).
 *
 * <p>Thread-safe. Keeps a few idle connections for reuse; {@link #close()} closes them.
 */
public final class EventLog implements AutoCloseable {
  /** The largest page {@link #page} and the tail return at once. */
  public static final int MAX_LIMIT = 10_000;
  private static final int IDLE_CONNECTIONS = 4;
  private static final Pattern FORMATION = Pattern.compile("[a-z][a-z0-9_-]{0,62}");

  private static final String COLUMNS = "j.\"ordering\", j.\"persistence_id\", j.\"sequence_number\", "
      + "j.\"write_timestamp\", j.\"event_ser_id\", j.\"event_ser_manifest\", j.\"event_payload\"";
  private static final String TAGGED = "SELECT " + COLUMNS
      + " FROM \"event_journal\" j JOIN \"event_tag\" t ON t.\"event_id\" = j.\"ordering\" WHERE t.\"tag\" = ?";

  private final JournalStore store;
  private final Deque<Connection> idle = new ArrayDeque<>();
  private boolean closed;

  public EventLog(JournalStore store) {
    this.store = store;
  }

  public JournalStore store() {
    return store;
  }

  /** The tag every event of {@code formation} carries. */
  public static String tagOf(String formation) {
    return "formation:" + formation;
  }

  public static String formationPersistenceId(String formation) {
    return "formation|" + formation;
  }

  public static String nodePersistenceId(String formation, int nodeId) {
    return "node|" + formation + "|" + nodeId;
  }

  /** True for a name a formation may have: {@code [a-z][a-z0-9_-]{0,62}}. */
  public static boolean validFormationName(String name) {
    return name != null && FORMATION.matcher(name).matches();
  }

  /** One page of a formation's events, newest first. */
  public record Page(List<StoredEvent> events, Long nextBefore) {
    public Page {
      events = List.copyOf(events);
    }
  }

  /**
   * A formation's events newest first.
   *
   * @param before only events with an ordering below this (null: from the newest)
   * @param sinceMillis only events the journal stored at or after this time, epoch ms (null: no bound).
   *     The journal's write time is the controller's wall clock when the event was stored, which is the
   *     event's {@code at} plus the time of one journal write; a row without a write time is judged by
   *     its {@code at}.
   * @param limit page size, 1 to {@link #MAX_LIMIT}
   * @return the events and, when the page is full, the {@code before} of the next (older) page
   */
  public Page page(String formation, Long before, Long sinceMillis, int limit) {
    checkLimit(limit);
    StringBuilder sql = new StringBuilder(TAGGED);
    if (before != null) sql.append(" AND j.\"ordering\" < ?");
    if (sinceMillis != null) sql.append(" AND (j.\"write_timestamp\" >= ? OR j.\"write_timestamp\" IS NULL)");
    sql.append(" ORDER BY j.\"ordering\" DESC LIMIT ?");
    List<StoredEvent> rows = query(sql.toString(), st -> {
      int i = 1;
      st.setString(i++, tagOf(formation));
      if (before != null) st.setLong(i++, before);
      if (sinceMillis != null) st.setLong(i++, sinceMillis);
      st.setInt(i, limit);
    });
    Long next = rows.size() == limit ? rows.get(rows.size() - 1).ordering() : null;
    if (sinceMillis != null) {
      rows = rows.stream().filter(e -> e.writeTimestamp() != null || e.at() >= sinceMillis).toList();
    }
    return new Page(rows, next);
  }

  /** A formation's events with an ordering above {@code afterOrdering}, oldest first, at most {@code limit}. */
  public List<StoredEvent> after(String formation, long afterOrdering, int limit) {
    return after(formation, afterOrdering, Long.MAX_VALUE, limit);
  }

  /** As {@link #after(String, long, int)}, bounded above by {@code upToOrdering} (inclusive). */
  public List<StoredEvent> after(String formation, long afterOrdering, long upToOrdering, int limit) {
    checkLimit(limit);
    return query(TAGGED + " AND j.\"ordering\" > ? AND j.\"ordering\" <= ? ORDER BY j.\"ordering\" LIMIT ?", st -> {
      st.setString(1, tagOf(formation));
      st.setLong(2, afterOrdering);
      st.setLong(3, upToOrdering);
      st.setInt(4, limit);
    });
  }

  /** Every journal event (of every formation) above {@code afterOrdering}, oldest first. */
  public List<StoredEvent> afterAll(long afterOrdering, int limit) {
    checkLimit(limit);
    return query("SELECT " + COLUMNS + " FROM \"event_journal\" j WHERE j.\"ordering\" > ? ORDER BY j.\"ordering\" LIMIT ?",
        st -> {
          st.setLong(1, afterOrdering);
          st.setInt(2, limit);
        });
  }

  /** Every event of one persistence id, in sequence order: the audit replays these, so nothing is skipped. */
  public List<StoredEvent> byPersistenceId(String persistenceId) {
    return byPersistenceId(persistenceId, 1, Long.MAX_VALUE);
  }

  /** The events of one persistence id with {@code fromSequenceNr <= sequence_number <= toSequenceNr}. */
  public List<StoredEvent> byPersistenceId(String persistenceId, long fromSequenceNr, long toSequenceNr) {
    return query("SELECT " + COLUMNS + " FROM \"event_journal\" j WHERE j.\"persistence_id\" = ?"
        + " AND j.\"sequence_number\" >= ? AND j.\"sequence_number\" <= ? ORDER BY j.\"sequence_number\"", st -> {
          st.setString(1, persistenceId);
          st.setLong(2, fromSequenceNr);
          st.setLong(3, toSequenceNr);
        });
  }

  /**
   * The persistence ids holding a formation's journal: its supervisor's first (when it has events),
   * then its nodes' in node id order. Found by name, not by tag, so that an event somebody forgot to
   * tag still shows up in the audit.
   */
  public List<String> persistenceIds(String formation) {
    String nodePrefix = "node|" + formation + "|";
    List<String> ids = new ArrayList<>();
    withConnection(c -> {
      try (PreparedStatement st = c.prepareStatement("SELECT DISTINCT \"persistence_id\" FROM \"event_journal\""
          + " WHERE \"persistence_id\" = ? OR \"persistence_id\" LIKE ? ESCAPE '!'")) {
        st.setString(1, formationPersistenceId(formation));
        st.setString(2, likeEscape(nodePrefix) + "%");
        try (ResultSet rs = st.executeQuery()) {
          while (rs.next()) ids.add(rs.getString(1));
        }
      }
      return null;
    });
    List<String> nodes = ids.stream().filter(id -> id.startsWith(nodePrefix))
        .sorted(Comparator.comparingLong((String id) -> nodeNumber(id.substring(nodePrefix.length())))
            .thenComparing(Comparator.naturalOrder()))
        .toList();
    List<String> out = new ArrayList<>();
    if (ids.contains(formationPersistenceId(formation))) out.add(formationPersistenceId(formation));
    out.addAll(nodes);
    return out;
  }

  /** The highest ordering in the journal, 0 when it is empty. */
  public long highestOrdering() {
    return withConnection(c -> {
      try (PreparedStatement st = c.prepareStatement("SELECT MAX(\"ordering\") FROM \"event_journal\"");
          ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    });
  }

  /** The highest ordering among a formation's events, 0 when it has none. */
  public long highestOrdering(String formation) {
    return withConnection(c -> {
      try (PreparedStatement st = c.prepareStatement("SELECT MAX(t.\"event_id\") FROM \"event_tag\" t WHERE t.\"tag\" = ?")) {
        st.setString(1, tagOf(formation));
        try (ResultSet rs = st.executeQuery()) {
          rs.next();
          return rs.getLong(1);
        }
      }
    });
  }

  /**
   * A poller for the live stream of a formation, starting after {@code afterOrdering}. Each
   * {@link Tail#poll()} returns the events journaled since the last one, oldest first.
   *
   * <p>Orderings are handed out when a row is inserted, not when its transaction commits, so with
   * several writers a row may become visible after a higher one. A tail therefore stops at the first
   * hole in the global ordering and waits up to {@code gapTimeoutMs} for it to fill before stepping over
   * it (a rolled-back insert leaves a hole forever).
   */
  public Tail tail(String formation, long afterOrdering, long gapTimeoutMs) {
    return tail(formation, afterOrdering, gapTimeoutMs, System::nanoTime);
  }

  /** As {@link #tail(String, long, long)}, with the monotonic clock (nanoseconds) given. */
  public Tail tail(String formation, long afterOrdering, long gapTimeoutMs, LongSupplier nanoTime) {
    return new Tail(formation, afterOrdering, gapTimeoutMs, nanoTime);
  }

  public Tail tail(String formation, long afterOrdering) {
    return tail(formation, afterOrdering, 3_000);
  }

  /** See {@link EventLog#tail}. Not thread-safe: one poller at a time. */
  public final class Tail {
    private final String formation;
    private final long gapTimeoutNanos;
    private final LongSupplier nanoTime;
    private long cursor;
    private long gapAt = -1;
    private long gapSince;

    Tail(String formation, long afterOrdering, long gapTimeoutMs, LongSupplier nanoTime) {
      this.formation = formation;
      this.cursor = afterOrdering;
      this.gapTimeoutNanos = gapTimeoutMs * 1_000_000L;
      this.nanoTime = nanoTime;
    }

    /** Every ordering up to this one has been delivered or stepped over. */
    public long cursor() {
      return cursor;
    }

    public List<StoredEvent> poll() {
      List<Long> orderings = withConnection(c -> {
        List<Long> out = new ArrayList<>();
        try (PreparedStatement st = c.prepareStatement(
            "SELECT \"ordering\" FROM \"event_journal\" WHERE \"ordering\" > ? ORDER BY \"ordering\" LIMIT ?")) {
          st.setLong(1, cursor);
          st.setInt(2, MAX_LIMIT);
          try (ResultSet rs = st.executeQuery()) {
            while (rs.next()) out.add(rs.getLong(1));
          }
        }
        return out;
      });
      long settled = cursor;
      for (long o : orderings) {
        long expected = settled + 1;
        if (o != expected) {
          long now = nanoTime.getAsLong();
          if (gapAt != expected) {
            gapAt = expected;
            gapSince = now;
            break;
          }
          if (now - gapSince < gapTimeoutNanos) break;
          gapAt = -1; // waited long enough: step over the hole
        }
        settled = o;
      }
      if (settled == cursor) return List.of();
      List<StoredEvent> events = after(formation, cursor, settled, MAX_LIMIT);
      cursor = settled;
      return events;
    }
  }

  private static long nodeNumber(String s) {
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      return Long.MAX_VALUE;
    }
  }

  private static String likeEscape(String s) {
    return s.replace("!", "!!").replace("%", "!%").replace("_", "!_");
  }

  private static void checkLimit(int limit) {
    if (limit < 1 || limit > MAX_LIMIT) {
      throw new IllegalArgumentException("limit must be between 1 and " + MAX_LIMIT + ", got " + limit);
    }
  }

  private interface Binder {
    void bind(PreparedStatement st) throws SQLException;
  }

  private interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  private List<StoredEvent> query(String sql, Binder binder) {
    return withConnection(c -> {
      List<StoredEvent> out = new ArrayList<>();
      try (PreparedStatement st = c.prepareStatement(sql)) {
        binder.bind(st);
        try (ResultSet rs = st.executeQuery()) {
          while (rs.next()) out.add(row(rs));
        }
      }
      return out;
    });
  }

  private static StoredEvent row(ResultSet rs) throws SQLException {
    long ordering = rs.getLong(1);
    String pid = rs.getString(2);
    long seq = rs.getLong(3);
    long ts = rs.getLong(4);
    Long writeTs = rs.wasNull() ? null : ts;
    int serId = rs.getInt(5);
    String manifest = rs.getString(6);
    byte[] payload = rs.getBytes(7);
    String json = serId == JournalSerializer.IDENTIFIER ? utf8(payload) : null;
    JournalEvent event = null;
    if (json != null && JournalSerializer.types().containsKey(manifest)) {
      try {
        event = Json.readEvent(payload);
      } catch (RuntimeException e) {
        event = null; // kept as text: the caller sees decoded() == false
      }
    }
    return new StoredEvent(ordering, pid, seq, writeTs, manifest, event, json);
  }

  private static String utf8(byte[] bytes) {
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  private <T> T withConnection(Work<T> work) {
    Connection c = borrow();
    boolean ok = false;
    try {
      T result = work.run(c);
      ok = true;
      return result;
    } catch (SQLException e) {
      throw new IllegalStateException("journal read failed on " + store + ": " + e.getMessage(), e);
    } finally {
      giveBack(c, ok);
    }
  }

  private Connection borrow() {
    synchronized (idle) {
      if (closed) throw new IllegalStateException("event log is closed");
      Connection c = idle.pollFirst();
      if (c != null) return c;
    }
    try {
      Connection c = store.connect();
      c.setAutoCommit(true);
      return c;
    } catch (SQLException e) {
      throw new IllegalStateException("cannot open the journal at " + store + ": " + e.getMessage(), e);
    }
  }

  private void giveBack(Connection c, boolean healthy) {
    synchronized (idle) {
      if (healthy && !closed && idle.size() < IDLE_CONNECTIONS) {
        idle.addFirst(c);
        return;
      }
    }
    closeQuietly(c);
  }

  private static void closeQuietly(Connection c) {
    try {
      c.close();
    } catch (SQLException ignored) {
      // closing a connection we no longer want
    }
  }

  @Override
  public void close() {
    List<Connection> toClose;
    synchronized (idle) {
      closed = true;
      toClose = new ArrayList<>(idle);
      idle.clear();
    }
    toClose.forEach(EventLog::closeQuietly);
  }
}
