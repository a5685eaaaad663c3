package io.pgwarden.keeper.pg;

import io.pgwarden.model.Lsn;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Physical replication slots named {@code pgwarden_<nodeId>}. Slots with other names are never touched.
 * New slots reserve WAL at once, so a slot made for a node that is still rejoining holds its WAL.
 */
public final class Slots {
  private static final Logger log = LoggerFactory.getLogger(Slots.class);
  private static final long DROP_WAIT_MS = 5_000;

  /** One pgwarden slot. */
  public record Slot(String name, boolean active, Integer activePid, Lsn restartLsn) {}

  /** What {@link #ensure} changed. */
  public record Changes(SortedSet<String> created, SortedSet<String> dropped) {}

  private final LocalPg pg;
  private final PgSql sql;

  public Slots(LocalPg pg) {
    this.pg = pg;
    this.sql = new PgSql(pg);
  }

  public List<Slot> list() {
    try (Connection c = sql.local("list slots", pg.timeouts().sql())) {
      return list(c);
    } catch (SQLException e) {
      throw sql.failed("list slots", e);
    }
  }

  public boolean create(String name) {
    check(name);
    try (Connection c = sql.local("create slot", pg.timeouts().sql())) {
      return create(c, name);
    } catch (SQLException e) {
      throw sql.failed("create slot " + name, e);
    }
  }

  public boolean drop(String name) {
    check(name);
    try (Connection c = sql.local("drop slot", pg.timeouts().sql())) {
      return drop(c, name);
    } catch (SQLException e) {
      throw sql.failed("drop slot " + name, e);
    }
  }

  /** Creates the missing slots of {@code wanted} and drops every other pgwarden_ slot. */
  public Changes ensure(Set<String> wanted) {
    wanted.forEach(this::check);
    SortedSet<String> created = new TreeSet<>();
    SortedSet<String> dropped = new TreeSet<>();
    try (Connection c = sql.local("ensure slots", pg.timeouts().sql())) {
      TreeMap<String, Slot> have = new TreeMap<>();
      for (Slot s : list(c)) have.put(s.name(), s);
      for (String name : new TreeSet<>(wanted)) {
        if (!have.containsKey(name) && create(c, name)) created.add(name);
      }
      for (String name : have.keySet()) {
        if (!wanted.contains(name) && drop(c, name)) dropped.add(name);
      }
    } catch (SQLException e) {
      throw sql.failed("ensure slots", e);
    }
    if (!created.isEmpty() || !dropped.isEmpty()) {
      log.info("{}: slots created {} dropped {}", pg.label(), created, dropped);
    }
    return new Changes(created, dropped);
  }

  private List<Slot> list(Connection c) throws SQLException {
    List<Slot> out = new ArrayList<>();
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
        "SELECT slot_name, active, active_pid, restart_lsn::text FROM pg_replication_slots"
            + " WHERE slot_type = 'physical' AND slot_name LIKE 'pgwarden\\_%' ORDER BY slot_name")) {
      while (rs.next()) {
        String lsn = rs.getString(4);
        int pid = rs.getInt(3);
        out.add(new Slot(rs.getString(1), rs.getBoolean(2), rs.wasNull() ? null : pid,
            lsn == null ? Lsn.ZERO : Lsn.parse(lsn)));
      }
    }
    return out;
  }

  private boolean create(Connection c, String name) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT pg_create_physical_replication_slot(?, true) WHERE NOT EXISTS"
            + " (SELECT 1 FROM pg_replication_slots WHERE slot_name = ?)")) {
      ps.setString(1, name);
      ps.setString(2, name);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  /** Drops a slot, terminating the walsender that holds it (retrying while it reconnects). */
  private boolean drop(Connection c, String name) throws SQLException {
    long deadline = System.nanoTime() + DROP_WAIT_MS * 1_000_000;
    while (true) {
      Slot s = list(c).stream().filter(x -> x.name().equals(name)).findFirst().orElse(null);
      if (s == null) return false;
      if (s.active() && s.activePid() != null) {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_terminate_backend(?)")) {
          ps.setInt(1, s.activePid());
          ps.execute();
        }
      } else {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_drop_replication_slot(?)")) {
          ps.setString(1, name);
          ps.execute();
          return true;
        } catch (SQLException e) {
          if (!"55006".equals(e.getSQLState())) throw e; // object_in_use: re-acquired meanwhile
        }
      }
      if (System.nanoTime() > deadline) {
        throw new PgOpException.TimedOut(pg.label(), "drop slot " + name, DROP_WAIT_MS,
            "the slot stays in use (walsender pid " + s.activePid() + ")");
      }
      PgCluster.pause(10);
    }
  }

  private void check(String name) {
    if (LocalPg.nodeIdOf(name) == null) {
      throw new PgOpException.Refused(pg.label(), "slots", PgOpException.Refused.Reason.BAD_INPUT,
          "pgwarden slot names are pgwarden_<nodeId>, got '" + name + "'");
    }
  }
}
