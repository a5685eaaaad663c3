package io.pgwarden.keeper.pg;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgwarden.model.Lsn;
import io.pgwarden.model.PgStatus;
import io.pgwarden.model.WalReceiverInfo;
import io.pgwarden.model.WalSenderInfo;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the local facts in ONE query over a fresh connection with a short timeout (the facts timeout,
 * default 1 s): a postmaster that lives but does not answer in time is {@link PgStatus#HUNG}.
 *
 * <p>Timeline on a primary: the timeline of the WAL file the current insert position is in
 * ({@code pg_walfile_name(pg_current_wal_lsn())}, which uses the insert timeline in PostgreSQL 15). It is
 * right immediately after promotion, whereas pg_control's checkpoint timeline stays the old one until the
 * first checkpoint after promotion; the latter is reported separately as {@code checkpointTimeline}.
 * On a standby: the WAL receiver's timeline while it runs; otherwise the newest of pg_control's
 * checkpoint and minimum-recovery timelines and the newest timeline history file in pg_wal (pg_control
 * moves only at restartpoints, so alone it can report a timeline older than one already reported).
 */
public final class FactsReader {
  private static final Logger log = LoggerFactory.getLogger(FactsReader.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  static final String QUERY = """
      SELECT r.in_recovery,
             (SELECT system_identifier FROM pg_control_system()) AS sysid,
             CASE WHEN NOT r.in_recovery THEN pg_current_wal_flush_lsn()::text END AS flush_lsn,
             pg_last_wal_receive_lsn()::text AS receive_lsn,
             pg_last_wal_replay_lsn()::text AS replay_lsn,
             CASE WHEN NOT r.in_recovery
                  THEN ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END AS insert_tli,
             c.timeline_id AS checkpoint_tli,
             rec.min_recovery_end_timeline AS min_recovery_tli,
             CASE WHEN r.in_recovery
                  THEN (SELECT max(('x' || substr(name, 1, 8))::bit(32)::int) FROM pg_ls_waldir()
                         WHERE name ~ '^[0-9A-F]{8}[.]history$') END AS history_tli,
             current_setting('synchronous_standby_names') AS sync_names,
             current_setting('default_transaction_read_only') AS read_only,
             (SELECT coalesce(json_agg(json_build_object(
                        'app', application_name, 'state', state, 'sync', sync_state,
                        'flush', flush_lsn::text, 'replay', replay_lsn::text,
                        'reply_age_ms', (extract(epoch FROM clock_timestamp() - reply_time) * 1000)::bigint)
                      ORDER BY application_name, pid), '[]'::json)
                FROM pg_stat_replication)::text AS senders,
             (SELECT json_build_object('status', status, 'host', sender_host, 'port', sender_port,
                        'tli', received_tli, 'end', latest_end_lsn::text,
                        'age_ms', (extract(epoch FROM clock_timestamp() - last_msg_receipt_time) * 1000)::bigint)
                FROM pg_stat_wal_receiver LIMIT 1)::text AS receiver
        FROM (SELECT pg_is_in_recovery() AS in_recovery) r, pg_control_checkpoint() c, pg_control_recovery() rec
      """;

  private final LocalPg pg;
  private final PgCluster cluster;
  private final PgSql sql;

  public FactsReader(LocalPg pg) {
    this.pg = pg;
    this.cluster = new PgCluster(pg);
    this.sql = new PgSql(pg);
  }

  /** The facts, never throwing: failures become STOPPED or HUNG with a detail. */
  public LocalFacts read() {
    long t0 = System.nanoTime();
    if (!cluster.isRunning()) return LocalFacts.without(PgStatus.STOPPED, "postmaster not running", 0);
    try (Connection c = sql.local("facts", pg.timeouts().facts()); Statement st = c.createStatement()) {
      st.setQueryTimeout((int) Math.max(1, pg.timeouts().facts().toSeconds()));
      try (ResultSet rs = st.executeQuery(QUERY)) {
        rs.next();
        return parse(rs, (System.nanoTime() - t0) / 1_000_000);
      }
    } catch (PgOpException.SqlFailed e) {
      return hungOrStopped(e.getMessage(), t0);
    } catch (SQLException | RuntimeException e) {
      return hungOrStopped(e.getClass().getSimpleName() + ": " + e.getMessage(), t0);
    }
  }

  private LocalFacts hungOrStopped(String why, long t0) {
    long ms = (System.nanoTime() - t0) / 1_000_000;
    if (!cluster.isRunning()) return LocalFacts.without(PgStatus.STOPPED, "postmaster exited: " + why, ms);
    // Only a postmaster whose lock file says "ready" (or "stopping": sessions may still commit during a
    // smart shutdown) can be taking writes. "starting" (recovery runs, no connections at all), "standby"
    // (hot standby), and no status line yet (the postmaster has not begun to accept connections) cannot.
    String pm = new PostmasterLock(pg).status();
    boolean recovering = !(pm.equals("ready") || pm.equals("stopping"));
    if (recovering && !pm.equals("standby")) {
      log.debug("{}: postmaster {} and not answering yet ({} ms): {}", pg.label(),
          pm.isEmpty() ? "starting" : pm, ms, why);
    } else {
      log.warn("{}: postmaster alive ({}) but the facts query failed after {} ms: {}", pg.label(),
          pm.isEmpty() ? "status unknown" : pm, ms, why);
    }
    return LocalFacts.without(PgStatus.HUNG, why, recovering, ms);
  }

  /**
   * Polls the facts every {@code everyMs} until {@code until} holds; throws TimedOut with the last facts.
   */
  public LocalFacts await(String what, Predicate<LocalFacts> until, Duration timeout, long everyMs) {
    long t0 = System.nanoTime();
    long deadline = t0 + timeout.toNanos();
    LocalFacts f = read();
    while (!until.test(f)) {
      if (System.nanoTime() > deadline) {
        throw new PgOpException.TimedOut(pg.label(), "await " + what, (System.nanoTime() - t0) / 1_000_000,
            "last facts: " + f);
      }
      PgCluster.pause(everyMs);
      f = read();
    }
    return f;
  }

  /** Waits until this standby streams on {@code timeline} and has replayed at least {@code lsn}. */
  public LocalFacts awaitReplay(int timeline, Lsn lsn, Duration timeout) {
    return await("replay " + lsn + " on timeline " + timeline, f -> f.running() && f.inRecovery()
        && f.timeline() == timeline && f.replayLsn().compareTo(lsn) >= 0 && f.walReceiver() != null
        && f.walReceiver().streaming(), timeout, 20);
  }

  private LocalFacts parse(ResultSet rs, long ms) throws SQLException {
    boolean inRecovery = rs.getBoolean("in_recovery");
    Lsn flush = lsn(rs.getString("flush_lsn"));
    Lsn receive = lsn(rs.getString("receive_lsn"));
    Lsn replay = lsn(rs.getString("replay_lsn"));
    int ckptTli = rs.getInt("checkpoint_tli");
    WalReceiverInfo receiver = receiver(rs.getString("receiver"));
    int timeline;
    if (!inRecovery) {
      timeline = rs.getInt("insert_tli");
    } else if (receiver != null && receiver.receivedTimeline() > 0) {
      timeline = receiver.receivedTimeline();
    } else {
      // No WAL receiver: pg_control's timelines lag on a standby (they move at restartpoints only), so a
      // standby that followed a promotion without a restartpoint yet would report the old timeline. The
      // newest timeline history file it holds names the timeline it switched to.
      timeline = Math.max(Math.max(ckptTli, rs.getInt("min_recovery_tli")), rs.getInt("history_tli"));
    }
    Lsn lsn = !inRecovery ? flush : (receive.isZero() ? replay : receive);
    Lsn upstreamEnd = Lsn.ZERO;
    String rj = rs.getString("receiver");
    if (rj != null) upstreamEnd = lsn(text(readJson(rj), "end"));
    return new LocalFacts(PgStatus.RUNNING, null, inRecovery, rs.getLong("sysid"), timeline, ckptTli, lsn, receive,
        replay, upstreamEnd, rs.getString("sync_names"), "on".equals(rs.getString("read_only")), senders(rs.getString("senders")),
        receiver, ms);
  }

  private static List<WalSenderInfo> senders(String json) {
    List<WalSenderInfo> out = new ArrayList<>();
    try {
      for (JsonNode n : JSON.readTree(json)) {
        String app = text(n, "app");
        out.add(new WalSenderInfo(app, LocalPg.nodeIdOf(app), text(n, "state"), text(n, "sync"),
            lsn(text(n, "flush")), lsn(text(n, "replay")), number(n, "reply_age_ms")));
      }
    } catch (java.io.IOException e) {
      throw new IllegalStateException("unexpected pg_stat_replication JSON: " + json, e);
    }
    return out;
  }

  private static WalReceiverInfo receiver(String json) {
    if (json == null) return null;
    try {
      JsonNode n = JSON.readTree(json);
      Long port = number(n, "port");
      Long tli = number(n, "tli");
      return new WalReceiverInfo(text(n, "status"), null, text(n, "host"), port == null ? 0 : port.intValue(),
          tli == null ? 0 : tli.intValue(), number(n, "age_ms"));
    } catch (java.io.IOException e) {
      throw new IllegalStateException("unexpected pg_stat_wal_receiver JSON: " + json, e);
    }
  }

  private static JsonNode readJson(String json) {
    try {
      return JSON.readTree(json);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("unexpected pg_stat_wal_receiver JSON: " + json, e);
    }
  }

  private static String text(JsonNode n, String f) {
    JsonNode v = n.get(f);
    return v == null || v.isNull() ? null : v.asText();
  }

  private static Long number(JsonNode n, String f) {
    JsonNode v = n.get(f);
    return v == null || v.isNull() ? null : v.asLong();
  }

  private static Lsn lsn(String s) {
    return s == null ? Lsn.ZERO : Lsn.parse(s);
  }
}
