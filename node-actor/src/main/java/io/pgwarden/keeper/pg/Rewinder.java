package io.pgwarden.keeper.pg;

import io.pgwarden.model.Lsn;
import io.pgwarden.os.Command;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a node whose timeline diverged (an old primary) into a standby of the new primary with
 * pg_rewind, or with pg_basebackup when pg_rewind fails.
 *
 * <p>Safety measures, in order:
 * <ol>
 *   <li>the source is checked before anything local changes: same system, not in recovery, not behind,
 *       and its pg_control already names its current timeline. A pg_rewind against a new primary that has
 *       not checkpointed since promotion returns 0 yet breaks the rejoin; when the source lags, this node
 *       asks it to CHECKPOINT (the replication role is a member of pg_checkpoint) and checks again;</li>
 *   <li>the local server is stopped cleanly (fast), escalating only if it must;</li>
 *   <li>a cluster that was not shut down cleanly gets its crash recovery in single-user mode
 *       ({@code postgres --single}, no connections possible) — the very step pg_rewind 13+ would run
 *       itself — so that the control file then gives the exact end of the old WAL;</li>
 *   <li>after pg_rewind the node's own configuration is rewritten (pg_rewind copies the source's), its
 *       replication settings reset, its old slots removed, and the standby setup written, so the node can
 *       only start as a standby.</li>
 * </ol>
 *
 * <p>Bytes discarded = old end of WAL − fork point. The old end is the local checkpoint location after
 * the clean stop (or the crash recovery), which is the end of everything the old timeline wrote, or the
 * last LSN the caller saw if larger. The fork point is the switchpoint of the local timeline in the
 * source's {@code <tli>.history}, read through {@code pg_read_binary_file} (granted to the replication
 * role for pg_rewind anyway); pg_rewind's own "servers diverged at" line is logged as a cross-check.
 */
public final class Rewinder {
  private static final Logger log = LoggerFactory.getLogger(Rewinder.class);
  private static final Pattern DIVERGED = Pattern.compile("servers diverged at WAL location (\\S+) on timeline (\\d+)");

  private final LocalPg pg;
  private final PgRunner run;
  private final PgSql sql;
  private final PgCluster cluster;

  /** What the source says about itself. */
  record SourceState(boolean inRecovery, long systemIdentifier, int timeline, int checkpointTimeline) {}

  /** What is known before pg_rewind runs; the fallback reports from it too. */
  private static final class Attempt {
    int localTimeline;
    int sourceTimeline;
    Lsn oldEnd = Lsn.ZERO;
    Lsn fork;
  }

  public Rewinder(LocalPg pg) {
    this.pg = pg;
    this.run = new PgRunner(pg);
    this.sql = new PgSql(pg);
    this.cluster = new PgCluster(pg);
  }

  /**
   * Rewinds from {@code source} and leaves the node stopped, set up as a standby of {@code source} through
   * {@code slot}. {@code lastKnownLsn} is the last LSN the caller saw this node at (may be null).
   */
  public RejoinResult rewind(StandbyConfig.Upstream source, String slot, Lsn lastKnownLsn) {
    return rewind(source, slot, lastKnownLsn, new Attempt());
  }

  /**
   * As {@link #rewind}, but when pg_rewind fails (or the node is a different system) clones with
   * pg_basebackup instead. Precondition failures (source not yet checkpointed, in recovery, behind) are
   * thrown: the caller retries later.
   */
  public RejoinResult rewindOrClone(StandbyConfig.Upstream source, String slot, Lsn lastKnownLsn, String cloneMaxRate,
      Consumer<BaseBackup.Progress> progress) {
    long t0 = System.nanoTime();
    Attempt a = new Attempt();
    String reason;
    try {
      return rewind(source, slot, lastKnownLsn, a);
    } catch (PgOpException.Refused e) {
      if (e.reason() != PgOpException.Refused.Reason.DIFFERENT_SYSTEM) throw e;
      reason = e.getMessage();
    } catch (PgOpException.CommandFailed e) {
      reason = e.getMessage();
    }
    log.warn("{}: rejoin by pg_rewind impossible, cloning from {}:{} instead. Reason: {}", pg.label(), source.host(),
        source.port(), reason);
    new BaseBackup(pg).clone(source, slot, cloneMaxRate, pg.timeouts().basebackup(), progress);
    long bytes = a.fork == null ? -1 : Math.max(0, a.oldEnd.minus(a.fork));
    int to = a.sourceTimeline;
    if (to == 0) to = new PgCluster(pg).controlData().checkpointTimeline();
    return new RejoinResult(RejoinResult.PG_BASEBACKUP, bytes, a.localTimeline, to, a.oldEnd, a.fork,
        (System.nanoTime() - t0) / 1_000_000, reason);
  }

  private RejoinResult rewind(StandbyConfig.Upstream source, String slot, Lsn lastKnownLsn, Attempt a) {
    long t0 = System.nanoTime();
    String step = "pg_rewind";
    if (slot != null && LocalPg.nodeIdOf(slot) == null) {
      throw new PgOpException.Refused(pg.label(), step, PgOpException.Refused.Reason.BAD_INPUT,
          "pgwarden slot names are pgwarden_<nodeId>, got '" + slot + "'");
    }
    if (!cluster.isCluster()) {
      throw new PgOpException.Refused(pg.label(), step, PgOpException.Refused.Reason.NOT_A_CLUSTER,
          pg.pgdata() + " is not a PostgreSQL cluster: clone it instead");
    }
    // 1. look before touching anything
    long localSysid;
    Lsn seen = lastKnownLsn == null ? Lsn.ZERO : lastKnownLsn;
    LocalFacts facts = cluster.isRunning() ? new FactsReader(pg).read() : null;
    if (facts != null && facts.running()) {
      localSysid = facts.systemIdentifier();
      a.localTimeline = facts.timeline();
      seen = Lsn.max(seen, facts.lsn());
    } else {
      ControlData cd = cluster.controlData();
      localSysid = cd.systemIdentifier();
      a.localTimeline = cd.checkpointTimeline();
    }
    SourceState src = checkSource(source, localSysid, a.localTimeline);
    a.sourceTimeline = src.timeline();

    // 2. stop cleanly; 3. crash recovery in single-user mode when the stop was not clean
    cluster.stop(PgCluster.StopMode.FAST);
    ControlData cd = cluster.controlData();
    if (!cd.cleanlyShutDown()) {
      crashRecovery(cd);
      cd = cluster.controlData();
    }
    a.localTimeline = cd.checkpointTimeline();
    a.oldEnd = Lsn.max(Lsn.max(cd.checkpointLocation(), cd.minRecoveryEnd()), seen);
    if (src.timeline() < a.localTimeline) {
      throw new PgOpException.Refused(pg.label(), step, PgOpException.Refused.Reason.SOURCE_BEHIND,
          "source " + source.host() + ":" + source.port() + " is on timeline " + src.timeline()
              + ", this node on " + a.localTimeline + ": it cannot follow an older timeline");
    }
    if (src.timeline() > a.localTimeline) a.fork = forkPoint(source, src.timeline(), a.localTimeline);

    // 4. pg_rewind
    Optional<String> savedHba = PgFiles.read(pg.file(HbaConfig.FILE));
    // from here until the rejoin is complete, anything that starts this PGDATA starts a standby with no
    // upstream (a successful pg_rewind deletes the file, the standby setup below writes it again)
    new StandbyConfig(pg).write(null, null);
    List<String> args = new ArrayList<>(List.of("--target-pgdata=" + pg.pgdata(),
        "--source-server=" + sourceConninfo(source)));
    // pg_rewind's own flush fsyncs every file of PGDATA one by one (seconds on a small cluster); one
    // syncfs of the file system after it does the same job at once (syncDurably below)
    args.add("--no-sync");
    Command c = run.withPassword(run.command(step, pg.timeouts().rewind(), "pg_rewind", args.toArray(String[]::new)),
        pg.replicationPassword());
    List<String> out = new ArrayList<>();
    Command.Result r = run.run(step, c, out::add);
    if (pg.durable()) syncDurably();
    boolean needed = out.stream().noneMatch(l -> l.contains("no rewind required"));
    Lsn reported = null;
    for (String l : out) {
      Matcher m = DIVERGED.matcher(l);
      if (m.find()) reported = Lsn.parse(m.group(1));
    }
    if (reported != null && a.fork != null && !reported.equals(a.fork)) {
      log.warn("{}: pg_rewind reports the fork at {} but the history file says {}; using pg_rewind's", pg.label(),
          reported, a.fork);
    }
    if (reported != null) a.fork = reported;

    // 5. this node's configuration back, as a standby of the source
    new NodeConfig(pg).afterCopy(savedHba);
    dropLocalSlots();
    new StandbyConfig(pg).write(source, slot);

    long ms = (System.nanoTime() - t0) / 1_000_000;
    long bytes = !needed ? 0 : a.fork == null ? -1 : Math.max(0, a.oldEnd.minus(a.fork));
    RejoinResult res = new RejoinResult(needed ? RejoinResult.PG_REWIND : RejoinResult.NONE, bytes, a.localTimeline,
        src.timeline(), a.oldEnd, a.fork, ms, null);
    log.info("{}: {} from {}:{} done in {} ms (pg_rewind {} ms): timeline {} -> {}, old end {}, fork {}, {} bytes"
        + " discarded", pg.label(), res.method(), source.host(), source.port(), ms, r.elapsedMs(), a.localTimeline,
        src.timeline(), a.oldEnd, a.fork, bytes);
    return res;
  }

  /**
   * Flushes what pg_rewind wrote: {@code sync -f} (syncfs(2)) of the file systems holding PGDATA and its
   * pg_wal, falling back to a plain {@code sync} where {@code sync -f} is refused.
   */
  void syncDurably() {
    long t0 = System.nanoTime();
    boolean ok = true;
    for (java.nio.file.Path dir : List.of(pg.pgdata(), pg.pgdata().resolve("pg_wal"))) {
      Command.Result r = Command.of("sync -f", List.of("sync", "-f", dir.toString()), java.time.Duration.ofMinutes(5))
          .run();
      ok &= r.ok();
    }
    if (!ok) {
      Command.Result r = Command.of("sync", List.of("sync"), java.time.Duration.ofMinutes(5)).run();
      if (!r.ok()) {
        throw new PgOpException.CommandFailed(pg.label(), "sync after pg_rewind", r);
      }
    }
    log.info("{}: PGDATA flushed after pg_rewind in {} ms", pg.label(), (System.nanoTime() - t0) / 1_000_000);
  }

  /** Checks the source and makes it checkpoint when its pg_control still names an older timeline. */
  SourceState checkSource(StandbyConfig.Upstream source, long localSysid, int localTimeline) {
    String step = "pg_rewind precondition";
    String where = source.host() + ":" + source.port();
    try (Connection c = sql.peer(step, source.host(), source.port(), pg.timeouts().sql());
        Statement st = c.createStatement()) {
      SourceState s = sourceState(st);
      if (s.systemIdentifier() != localSysid) {
        throw new PgOpException.Refused(pg.label(), step, PgOpException.Refused.Reason.DIFFERENT_SYSTEM,
            "source " + where + " has system identifier " + Long.toUnsignedString(s.systemIdentifier())
                + ", this node " + Long.toUnsignedString(localSysid) + ": not the same cluster, clone instead");
      }
      if (s.inRecovery()) {
        throw new PgOpException.Refused(pg.label(), step, PgOpException.Refused.Reason.SOURCE_IN_RECOVERY,
            "source " + where + " is still in recovery; rewind from the primary");
      }
      if (s.timeline() < localTimeline) {
        throw new PgOpException.Refused(pg.label(), step, PgOpException.Refused.Reason.SOURCE_BEHIND,
            "source " + where + " is on timeline " + s.timeline() + ", this node on " + localTimeline);
      }
      if (s.checkpointTimeline() != s.timeline()) {
        log.info("{}: source {} is on timeline {} but its pg_control still says {}: asking it to CHECKPOINT",
            pg.label(), where, s.timeline(), s.checkpointTimeline());
        st.execute("CHECKPOINT");
        s = sourceState(st);
        if (s.checkpointTimeline() != s.timeline()) {
          throw new PgOpException.Refused(pg.label(), step, PgOpException.Refused.Reason.SOURCE_NOT_CHECKPOINTED,
              "source " + where + " has not checkpointed on timeline " + s.timeline() + " (pg_control says "
                  + s.checkpointTimeline() + "); a pg_rewind now would break the rejoin. CHECKPOINT it and retry");
        }
      }
      return s;
    } catch (SQLException e) {
      throw sql.failed(step, e);
    }
  }

  private static SourceState sourceState(Statement st) throws SQLException {
    try (ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery(), (SELECT system_identifier FROM pg_control_system()),"
        + " CASE WHEN NOT pg_is_in_recovery()"
        + "      THEN ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END,"
        + " (SELECT timeline_id FROM pg_control_checkpoint())")) {
      rs.next();
      return new SourceState(rs.getBoolean(1), rs.getLong(2), rs.getInt(3), rs.getInt(4));
    }
  }

  /** The switchpoint of {@code localTli} in the source's history of {@code sourceTli}, or null. */
  private Lsn forkPoint(StandbyConfig.Upstream source, int sourceTli, int localTli) {
    String file = TimelineHistory.fileName(sourceTli);
    try (Connection c = sql.peer("read timeline history", source.host(), source.port(), pg.timeouts().sql());
        PreparedStatement ps = c.prepareStatement("SELECT pg_read_binary_file(?)")) {
      ps.setString(1, "pg_wal/" + file);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        TimelineHistory h = TimelineHistory.parse(sourceTli, new String(rs.getBytes(1), StandardCharsets.UTF_8));
        Lsn fork = h.switchpointOf(localTli);
        if (fork == null) log.warn("{}: timeline {} is not in the source's {}", pg.label(), localTli, file);
        return fork;
      }
    } catch (SQLException e) {
      log.warn("{}: could not read {} from the source ({}); bytes discarded will be unknown", pg.label(), file,
          e.getMessage());
      return null;
    }
  }

  /** Crash recovery without accepting connections: single-user mode with no input. */
  private void crashRecovery(ControlData before) {
    log.info("{}: cluster state is '{}', not a clean shutdown: running crash recovery in single-user mode",
        pg.label(), before.state());
    new StandbyConfig(pg).clear(); // single-user mode refuses standby mode
    List<String> args = new ArrayList<>(List.of("--single", "-D", pg.pgdata().toString(), "template1"));
    if (!pg.durable()) args.add(1, "-F");
    Command c = run.command("crash recovery", pg.timeouts().rewind(), "postgres", args.toArray(String[]::new))
        .withStdin(new byte[0]);
    Command.Result r = run.run("crash recovery", c);
    log.info("{}: crash recovery done in {} ms", pg.label(), r.elapsedMs());
  }

  /** Removes this node's replication slots (server stopped): they belong to its time as a primary. */
  private void dropLocalSlots() {
    Path dir = pg.file("pg_replslot");
    if (!Files.isDirectory(dir)) return;
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        log.info("{}: removing old replication slot {}", pg.label(), p.getFileName());
        PgFiles.deleteTree(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private String sourceConninfo(StandbyConfig.Upstream source) {
    return "host=" + PgFiles.quoteConninfo(source.host()) + " port=" + source.port() + " user=" + pg.replicationUser()
        + " dbname=postgres application_name=" + pg.applicationName() + "_rewind connect_timeout=2";
  }
}
