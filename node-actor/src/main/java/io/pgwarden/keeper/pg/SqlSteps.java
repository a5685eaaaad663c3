package io.pgwarden.keeper.pg;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The small SQL steps the transition planner needs: replication settings (file + reload, confirmed in
 * effect), CHECKPOINT, the replication role, the application database, cancelling sessions stuck
 * waiting for synchronous replication.
 */
public final class SqlSteps {
  private static final Logger log = LoggerFactory.getLogger(SqlSteps.class);

  private final LocalPg pg;
  private final PgSql sql;
  private final PgCluster cluster;
  private final ReplicationConfig replication;

  public SqlSteps(LocalPg pg) {
    this.pg = pg;
    this.sql = new PgSql(pg);
    this.cluster = new PgCluster(pg);
    this.replication = new ReplicationConfig(pg);
  }

  /**
   * Sets synchronous_standby_names: rewrites pgwarden-replication.conf, reloads, and waits until a session
   * sees the new value. When PostgreSQL is not running only the file changes (it applies at start).
   */
  public void setSynchronousStandbyNames(String names) {
    if (names == null || names.indexOf('\n') >= 0 || names.indexOf('\r') >= 0) {
      throw new PgOpException.Refused(pg.label(), "set synchronous_standby_names",
          PgOpException.Refused.Reason.BAD_INPUT, "not a valid value: " + names);
    }
    ReplicationConfig.Values v = replication.read();
    replication.write(new ReplicationConfig.Values(names, v.defaultReadOnly()));
    applyAndConfirm("synchronous_standby_names", names);
  }

  /** Sets default_transaction_read_only the same way. Not a fence: any session can override it. */
  public void setDefaultReadOnly(boolean on) {
    ReplicationConfig.Values v = replication.read();
    replication.write(new ReplicationConfig.Values(v.synchronousStandbyNames(), on));
    applyAndConfirm("default_transaction_read_only", on ? "on" : "off");
  }

  private void applyAndConfirm(String name, String expected) {
    if (!cluster.isRunning()) return;
    String step = "set " + name;
    long t0 = System.nanoTime();
    long deadline = t0 + pg.timeouts().sql().toNanos();
    try (Connection c = sql.local(step, pg.timeouts().sql());
        PreparedStatement ps = c.prepareStatement("SELECT current_setting(?)")) {
      ps.setString(1, name);
      boolean reloaded = false;
      while (true) {
        // a session applies a pending reload before each statement; a value already in effect needs none
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          if (expected.equals(rs.getString(1))) break;
        }
        if (!reloaded) {
          try (Statement st = c.createStatement()) {
            st.execute("SELECT pg_reload_conf()");
          }
          reloaded = true;
          continue;
        }
        if (System.nanoTime() > deadline) {
          throw new PgOpException.TimedOut(pg.label(), step, (System.nanoTime() - t0) / 1_000_000,
              "the reloaded value is not in effect; " + fileSettingError(c, name));
        }
        PgCluster.pause(5);
      }
    } catch (SQLException e) {
      throw sql.failed(step, e);
    }
    log.info("{}: {} = '{}' in effect after {} ms", pg.label(), name, expected, (System.nanoTime() - t0) / 1_000_000);
  }

  private static String fileSettingError(Connection c, String name) {
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT sourcefile, sourceline, setting, error FROM pg_file_settings WHERE name = ? AND error IS NOT NULL")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          return "PostgreSQL rejected '" + rs.getString(3) + "' at " + rs.getString(1) + ":" + rs.getInt(2) + ": "
              + rs.getString(4);
        }
      }
      return "pg_file_settings shows no error";
    } catch (SQLException e) {
      return "pg_file_settings unreadable: " + e.getMessage();
    }
  }

  /** current_setting(name) on a fresh session. */
  public String currentSetting(String name) {
    try (Connection c = sql.local("show " + name, pg.timeouts().sql());
        PreparedStatement ps = c.prepareStatement("SELECT current_setting(?)")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getString(1);
      }
    } catch (SQLException e) {
      throw sql.failed("show " + name, e);
    }
  }

  /** CHECKPOINT (immediate). Returns its duration in ms. */
  public long checkpoint(Duration timeout) {
    long t0 = System.nanoTime();
    try (Connection c = sql.local("checkpoint", timeout); Statement st = c.createStatement()) {
      st.execute("CHECKPOINT");
    } catch (SQLException e) {
      throw sql.failed("checkpoint", e);
    }
    return (System.nanoTime() - t0) / 1_000_000;
  }

  /**
   * Creates (or brings up to date) the replication role: LOGIN REPLICATION, its password, and the grants
   * pg_rewind needs as a non-superuser plus pg_checkpoint (so that a rejoining node can make the new
   * primary checkpoint before pg_rewind). Must run on a primary; replicated to the standbys.
   */
  public void ensureReplicationRole() {
    String role = PgSql.quoteIdent(pg.replicationUser());
    String pw = pg.replicationPassword() == null ? "PASSWORD NULL" : "PASSWORD " + PgSql.quoteLiteral(pg.replicationPassword());
    try (Connection c = sql.local("create replication role", pg.timeouts().sql()); Statement st = c.createStatement()) {
      try (ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
        rs.next();
        if (rs.getBoolean(1)) {
          throw new PgOpException.Refused(pg.label(), "create replication role",
              PgOpException.Refused.Reason.BAD_INPUT, "this server is a standby; roles are created on the primary");
        }
      }
      boolean exists;
      try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_roles WHERE rolname = ?")) {
        ps.setString(1, pg.replicationUser());
        try (ResultSet rs = ps.executeQuery()) {
          exists = rs.next();
        }
      }
      st.execute((exists ? "ALTER ROLE " : "CREATE ROLE ") + role + " WITH LOGIN REPLICATION " + pw);
      for (String fn : new String[] {"pg_ls_dir(text, boolean, boolean)", "pg_stat_file(text, boolean)",
          "pg_read_binary_file(text)", "pg_read_binary_file(text, bigint, bigint, boolean)"}) {
        st.execute("GRANT EXECUTE ON FUNCTION pg_catalog." + fn + " TO " + role);
      }
      st.execute("GRANT pg_checkpoint TO " + role);
      log.info("{}: replication role {} {}", pg.label(), pg.replicationUser(), exists ? "updated" : "created");
    } catch (SQLException e) {
      throw sql.failed("create replication role", e);
    }
  }

  /** Creates the database when missing. Returns true when it created it. */
  public boolean createDatabaseIfMissing(String name) {
    if (name == null || !name.matches("[a-z_][a-z0-9_]{0,62}")) {
      throw new PgOpException.Refused(pg.label(), "create database", PgOpException.Refused.Reason.BAD_INPUT,
          "not a plain database name: '" + name + "'");
    }
    try (Connection c = sql.local("create database", pg.timeouts().sql());
        PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) return false;
      }
      try (Statement st = c.createStatement()) {
        st.execute("CREATE DATABASE " + PgSql.quoteIdent(name));
      }
      log.info("{}: database {} created", pg.label(), name);
      return true;
    } catch (SQLException e) {
      throw sql.failed("create database", e);
    }
  }

  /**
   * How many synchronous standbys a synchronous_standby_names value asks commits to wait for: the
   * number of {@code ANY n (...)}, {@code FIRST n (...)} or {@code n (...)}; 1 for a plain list; 0 when
   * empty.
   */
  public static int requiredSyncStandbys(String names) {
    if (names == null || names.isBlank()) return 0;
    java.util.regex.Matcher m = java.util.regex.Pattern
        .compile("^\\s*(?:(?i:ANY|FIRST)\\s+)?(\\d+)\\s*\\(").matcher(names);
    return m.find() ? Integer.parseInt(m.group(1)) : 1;
  }

  /** What {@link #awaitSyncStandbys} found. */
  public record SyncCaughtUp(String names, int required, io.pgwarden.model.Lsn target, int caughtUp, long waitedMs) {}

  /**
   * Waits until the synchronous standbys in effect have flushed the WAL position current when the call
   * began: as many walsenders as synchronous_standby_names requires, in sync state {@code sync} or
   * {@code quorum}, with flush_lsn at or past it. Returns at once when no synchronous standby is
   * configured. Throws TimedOut (with what it saw) after {@code timeout}.
   */
  public SyncCaughtUp awaitSyncStandbys(Duration timeout) {
    String step = "await sync standbys";
    long t0 = System.nanoTime();
    try (Connection c = sql.local(step, pg.timeouts().sql()); Statement st = c.createStatement()) {
      String names;
      String target;
      try (ResultSet rs = st.executeQuery("SELECT current_setting('synchronous_standby_names'),"
          + " pg_current_wal_flush_lsn()::text")) {
        rs.next();
        names = rs.getString(1);
        target = rs.getString(2);
      }
      int required = requiredSyncStandbys(names);
      io.pgwarden.model.Lsn lsn = io.pgwarden.model.Lsn.parse(target);
      if (required == 0) return new SyncCaughtUp(names, 0, lsn, 0, 0);
      long deadline = t0 + timeout.toNanos();
      String seen = "";
      try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FILTER (WHERE sync_state IN ('sync', 'quorum')"
          + " AND flush_lsn >= ?::pg_lsn), string_agg(application_name || ':' || coalesce(sync_state, '?') || '@'"
          + " || coalesce(flush_lsn::text, '-'), ', ') FROM pg_stat_replication")) {
        ps.setString(1, target);
        while (true) {
          int n;
          try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            n = rs.getInt(1);
            seen = rs.getString(2);
          }
          if (n >= required) {
            long ms = (System.nanoTime() - t0) / 1_000_000;
            log.info("{}: {} of {} synchronous standbys flushed {} after {} ms ({})", pg.label(), n, required, target,
                ms, names);
            return new SyncCaughtUp(names, required, lsn, n, ms);
          }
          if (System.nanoTime() > deadline) {
            throw new PgOpException.TimedOut(pg.label(), step, (System.nanoTime() - t0) / 1_000_000,
                required + " synchronous standby(s) of '" + names + "' should have flushed " + target
                    + "; walsenders: " + (seen == null ? "none" : seen));
          }
          PgCluster.pause(20);
        }
      }
    } catch (SQLException e) {
      throw sql.failed(step, e);
    }
  }

  /**
   * The timeline {@code upstream} is on now (the insert timeline of a primary; a standby's replay
   * timeline), asked over a connection as the replication role to its postgres database.
   */
  public int upstreamTimeline(StandbyConfig.Upstream upstream) {
    String step = "upstream timeline";
    try (Connection c = sql.peer(step, upstream.host(), upstream.port(), pg.timeouts().sql());
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT CASE WHEN pg_is_in_recovery()"
            + " THEN (SELECT greatest(timeline_id, (SELECT min_recovery_end_timeline FROM pg_control_recovery()))"
            + "       FROM pg_control_checkpoint())"
            + " ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END")) {
      rs.next();
      return rs.getInt(1);
    } catch (SQLException e) {
      throw sql.failed(step, e);
    }
  }

  /**
   * Cancels every backend waiting for synchronous replication (after synchronous_standby_names became
   * empty those commits are already local; the clients get success with a warning). Returns how many.
   */
  public int cancelSyncRepWaiters() {
    try (Connection c = sql.local("cancel SyncRep waiters", pg.timeouts().sql()); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(
            "SELECT count(*) FILTER (WHERE pg_cancel_backend(pid)) FROM pg_stat_activity WHERE wait_event = 'SyncRep'")) {
      rs.next();
      int n = rs.getInt(1);
      if (n > 0) log.info("{}: cancelled {} sessions waiting on SyncRep", pg.label(), n);
      return n;
    } catch (SQLException e) {
      throw sql.failed("cancel SyncRep waiters", e);
    }
  }
}
