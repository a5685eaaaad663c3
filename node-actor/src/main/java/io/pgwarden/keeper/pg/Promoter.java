package io.pgwarden.keeper.pg;

import io.pgwarden.os.Command;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Promotes the local standby as fast as PostgreSQL allows:
 * <ol>
 *   <li>synchronous_standby_names = '' first (a new primary has no synchronous standby yet);</li>
 *   <li>{@code pg_ctl promote -W} (no wait), then {@code pg_is_in_recovery()} polled every 10 ms on an
 *       already open session;</li>
 *   <li>the promote request re-sent every 100 ms while still in recovery: a request that arrives while
 *       the startup process sleeps out wal_retrieve_retry_interval (right after the upstream died) would
 *       otherwise stall for that whole interval;</li>
 *   <li>CHECKPOINT, so that pg_control names the new timeline before any peer runs pg_rewind against it —
 *       unless the caller checkpoints later itself (the keeper's plans have a checkpoint step of their own,
 *       after writes open, off the promotion's critical path);</li>
 *   <li>the standby setup removed.</li>
 * </ol>
 * Idempotent: on a node that is already a primary it only checkpoints and cleans up.
 */
public final class Promoter {
  private static final Logger log = LoggerFactory.getLogger(Promoter.class);
  static final long POLL_MS = 10;
  static final long RESEND_MS = 100;

  /**
   * @param writableAfterMs from the first promote request to pg_is_in_recovery() = false
   * @param resends promote requests sent after the first one
   */
  public record Result(boolean alreadyPrimary, long writableAfterMs, int resends, long checkpointMs, int timeline,
      long totalMs) {}

  private final LocalPg pg;
  private final PgRunner run;
  private final PgSql sql;
  private final PgCluster cluster;

  public Promoter(LocalPg pg) {
    this.pg = pg;
    this.run = new PgRunner(pg);
    this.sql = new PgSql(pg);
    this.cluster = new PgCluster(pg);
  }

  public Result promote() {
    return promote(pg.timeouts().promote());
  }

  public Result promote(Duration timeout) {
    return promote(timeout, true);
  }

  /** As {@link #promote()}; {@code checkpoint} false leaves the CHECKPOINT to the caller. */
  public Result promote(Duration timeout, boolean checkpoint) {
    long t0 = System.nanoTime();
    if (!cluster.isRunning()) {
      throw new PgOpException.Refused(pg.label(), "promote", PgOpException.Refused.Reason.NOT_RUNNING,
          "PostgreSQL is not running; start it as a standby first");
    }
    new SqlSteps(pg).setSynchronousStandbyNames("");
    boolean already;
    long writableMs = 0;
    int resends = 0;
    long ckptMs;
    int tli;
    try (Connection c = sql.local("promote", pg.timeouts().sql()); Statement st = c.createStatement()) {
      already = !inRecovery(st);
      if (!already) {
        long req = System.nanoTime();
        long deadline = req + timeout.toNanos();
        long lastSend = req;
        Command.Result last = sendPromote();
        while (inRecovery(st)) {
          long now = System.nanoTime();
          if (now > deadline) {
            throw new PgOpException.TimedOut(pg.label(), "promote", (now - req) / 1_000_000,
                "still in recovery after " + (resends + 1) + " promote requests; last: " + last.describe()
                    + "; server log:\n  " + String.join("\n  ", ServerLog.tail(pg, 8)));
          }
          if (now - lastSend >= RESEND_MS * 1_000_000) {
            last = sendPromote();
            resends++;
            lastSend = now;
          }
          PgCluster.pause(POLL_MS);
        }
        writableMs = (System.nanoTime() - req) / 1_000_000;
      }
      long c0 = System.nanoTime();
      if (checkpoint) st.execute("CHECKPOINT");
      ckptMs = (System.nanoTime() - c0) / 1_000_000;
      try (ResultSet rs = st.executeQuery(
          "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int")) {
        rs.next();
        tli = rs.getInt(1);
      }
    } catch (SQLException e) {
      throw sql.failed("promote", e);
    }
    new StandbyConfig(pg).clear();
    PgFiles.delete(pg.file("promote")); // a re-sent request can leave the signal file behind
    cluster.reload();
    Result r = new Result(already, writableMs, resends, ckptMs, tli, (System.nanoTime() - t0) / 1_000_000);
    if (already) {
      log.info("{}: already a primary on timeline {}; checkpointed in {} ms", pg.label(), tli, ckptMs);
    } else {
      log.info("{}: promoted to timeline {}: writable {} ms after the request ({} re-sends), checkpoint {} ms,"
          + " {} ms in all", pg.label(), tli, writableMs, resends, ckptMs, r.totalMs());
    }
    return r;
  }

  private Command.Result sendPromote() {
    Command c = run.command("pg_ctl promote", Duration.ofSeconds(5), "pg_ctl", "promote", "-W", "-D",
        pg.pgdata().toString());
    // a failure here is judged by the polling: once promoted, pg_ctl says "not in standby mode"
    Command.Result r = c.run();
    if (!r.ok()) log.debug("{}: pg_ctl promote: {}", pg.label(), r.describe());
    return r;
  }

  private static boolean inRecovery(Statement st) throws SQLException {
    try (ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
      rs.next();
      return rs.getBoolean(1);
    }
  }
}
