package io.pgwarden.keeper.pg;

import io.pgwarden.os.Command;
import io.pgwarden.os.OsUser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local cluster's lifecycle: initdb, adopt an existing cluster, start, stop (fast, then immediate,
 * then SIGKILL of the whole postmaster tree), whether the postmaster runs, pg_controldata.
 */
public final class PgCluster {
  private static final Logger log = LoggerFactory.getLogger(PgCluster.class);
  private static final Duration IMMEDIATE_STEP = Duration.ofSeconds(5);
  private static final Duration KILL_STEP = Duration.ofSeconds(10);

  /** How to stop: fast (clean shutdown checkpoint) or immediate (no checkpoint; crash recovery at next start). */
  public enum StopMode { FAST, IMMEDIATE }

  /** What finally stopped the server. */
  public enum Stopped { NOT_RUNNING, FAST, IMMEDIATE, KILLED }

  private final LocalPg pg;
  private final PgRunner run;
  private final PostmasterLock lock;

  public PgCluster(LocalPg pg) {
    this.pg = pg;
    this.run = new PgRunner(pg);
    this.lock = new PostmasterLock(pg);
  }

  /** True when {@code dir} holds a PostgreSQL cluster (PG_VERSION and global/pg_control). */
  public static boolean isCluster(Path dir) {
    return Files.isRegularFile(dir.resolve("PG_VERSION")) && Files.isRegularFile(dir.resolve("global/pg_control"));
  }

  public boolean isCluster() {
    return isCluster(pg.pgdata());
  }

  /**
   * Creates the cluster: local-socket connections trusted, TCP rejected except pgwarden's own exact rules;
   * then writes pgwarden's configuration. Refuses (changing nothing) when PGDATA is not empty.
   */
  public void initdb() {
    Path data = pg.pgdata();
    if (isCluster()) {
      throw new PgOpException.Refused(pg.label(), "initdb", PgOpException.Refused.Reason.ALREADY_A_CLUSTER,
          data + " already holds a PostgreSQL cluster; adopt it instead of running initdb");
    }
    if (!PgFiles.isEmptyOrMissing(data)) {
      throw new PgOpException.Refused(pg.label(), "initdb", PgOpException.Refused.Reason.NOT_EMPTY,
          data + " is not empty and is not a PostgreSQL cluster; empty it or choose another PGDATA");
    }
    prepareDirs();
    OsUser.chown(data, pg.pgUser());
    List<String> args = new ArrayList<>(List.of("-D", data.toString(), "-U", pg.superuser(), "-E", "UTF8",
        "--locale=C", "--auth-local=trust", "--auth-host=reject", "--no-instructions"));
    if (!pg.durable()) args.add("--no-sync");
    Path pwfile = null;
    try {
      if (pg.superuserPassword() != null) {
        pwfile = pg.socketDir().resolve(".pgwarden-initdb-pw");
        PgFiles.write(pwfile, pg.superuserPassword() + "\n");
        args.add("--pwfile=" + pwfile);
      }
      long t0 = System.nanoTime();
      run.run("initdb", run.command("initdb", pg.timeouts().start(), "initdb", args.toArray(String[]::new)));
      log.info("{}: initdb of {} done in {} ms", pg.label(), data, (System.nanoTime() - t0) / 1_000_000);
    } finally {
      if (pwfile != null) PgFiles.delete(pwfile);
    }
    new NodeConfig(pg).write();
    new ReplicationConfig(pg).reset();
    new HbaConfig(pg).write(List.of());
  }

  /**
   * Takes over an existing cluster: checks it is one, then writes pgwarden's configuration files and
   * include lines. Refuses (changing nothing) when PGDATA is not a cluster.
   */
  public void adopt() {
    if (!isCluster()) {
      throw new PgOpException.Refused(pg.label(), "adopt", PgOpException.Refused.Reason.NOT_A_CLUSTER,
          pg.pgdata() + (Files.exists(pg.pgdata()) ? " is not a PostgreSQL cluster (no PG_VERSION or global/pg_control)"
              : " does not exist"));
    }
    prepareDirs();
    new NodeConfig(pg).write();
    ReplicationConfig rc = new ReplicationConfig(pg);
    if (!Files.exists(pg.file(ReplicationConfig.FILE))) rc.reset();
    HbaConfig hba = new HbaConfig(pg);
    if (!PgFiles.read(pg.file(HbaConfig.FILE)).orElse("").contains(HbaConfig.BEGIN)) hba.write(List.of());
  }

  /** Starts PostgreSQL (pg_ctl start -w) after rewriting the node settings. Returns false if it already ran. */
  public boolean start() {
    return start(pg.timeouts().start());
  }

  public boolean start(Duration timeout) {
    if (!isCluster()) {
      throw new PgOpException.Refused(pg.label(), "start", PgOpException.Refused.Reason.NOT_A_CLUSTER,
          pg.pgdata() + " is not a PostgreSQL cluster");
    }
    if (isRunning()) return false;
    clearStaleLock(Duration.ofSeconds(10));
    prepareDirs();
    new NodeConfig(pg).write();
    long secs = Math.max(1, timeout.toSeconds());
    Command c = run.command("pg_ctl start", timeout.plusSeconds(5), "pg_ctl", "start", "-w", "-t", Long.toString(secs),
        "-D", pg.pgdata().toString(), "-l", ServerLog.of(pg).toString());
    Command.Result r = run.tryRun("pg_ctl start", c, l -> {});
    if (!r.ok()) {
      List<String> tail = new ArrayList<>(r.tail());
      tail.add("--- last lines of " + ServerLog.of(pg) + ":");
      tail.addAll(ServerLog.tail(pg, 10));
      throw new PgOpException.CommandFailed(pg.label(), "start",
          new Command.Result(r.command(), r.exitCode(), r.timedOut(), r.elapsedMs(), tail));
    }
    log.info("{}: PostgreSQL started on port {} in {} ms", pg.label(), pg.port(), r.elapsedMs());
    return true;
  }

  /** Stops PostgreSQL, escalating fast → immediate → SIGKILL of the postmaster and its children. */
  public Stopped stop(StopMode mode) {
    return stop(mode, pg.timeouts().stop());
  }

  /**
   * As {@link #stop(StopMode)}; {@code stepTimeout} bounds the fast step, and the immediate step too when
   * shorter than 5 s (a fencing caller passes a short one: a hung server is SIGKILLed after 2 steps).
   */
  public Stopped stop(StopMode mode, Duration stepTimeout) {
    if (!isRunning()) {
      clearStaleLock(KILL_STEP);
      return Stopped.NOT_RUNNING;
    }
    if (mode == StopMode.FAST && pgCtlStop("fast", stepTimeout)) return Stopped.FAST;
    if (pgCtlStop("immediate", stepTimeout.compareTo(IMMEDIATE_STEP) < 0 ? stepTimeout : IMMEDIATE_STEP)) {
      return Stopped.IMMEDIATE;
    }
    kill();
    return Stopped.KILLED;
  }

  /**
   * The fence: stop PostgreSQL now, whatever it is doing. First SIGKILL to every current child of the
   * postmaster (no process is forked for it, so it takes microseconds: a backend about to acknowledge a
   * commit dies before it can), which also puts the postmaster into crash shutdown (restart_after_crash is
   * off), so a backend it forks meanwhile is stopped by the postmaster itself; then {@code pg_ctl stop -m
   * immediate} with a short wait; then SIGKILL to the postmaster and every process that was its child when
   * the fence began (a SIGSTOPped or stuck backend is not left holding shared memory or a socket). Does
   * not wait for the lock file to go (a SIGKILLed postmaster stays a zombie until init reaps it): the
   * processes are dead when this returns, which is what stops writes.
   */
  public Stopped fence(Duration immediateWait) {
    OptionalLong pid = lock.pid();
    if (pid.isEmpty() || !isRunning()) return Stopped.NOT_RUNNING;
    List<ProcessHandle> tree = new ArrayList<>();
    ProcessHandle.of(pid.getAsLong()).ifPresent(h -> {
      tree.add(h);
      h.descendants().forEach(tree::add);
    });
    int children = 0;
    for (ProcessHandle h : tree) {
      if (h.pid() != pid.getAsLong() && h.destroyForcibly()) children++;
    }
    if (children > 0) log.warn("{}: fence: SIGKILL to the {} children of postmaster {}", pg.label(), children,
        pid.getAsLong());
    boolean stopped = pgCtlStop("immediate", immediateWait);
    int killed = 0;
    for (ProcessHandle h : tree) {
      if (h.isAlive()) {
        h.destroyForcibly();
        killed++;
      }
    }
    if (killed > 0) {
      log.warn("{}: fence: SIGKILL to {} process(es) of postmaster {} left after pg_ctl stop -m immediate",
          pg.label(), killed, pid.getAsLong());
    }
    return stopped && killed == 0 ? Stopped.IMMEDIATE : Stopped.KILLED;
  }

  private boolean pgCtlStop(String mode, Duration timeout) {
    long secs = Math.max(1, timeout.toSeconds());
    Command c = run.command("pg_ctl stop -m " + mode, timeout.plusSeconds(2), "pg_ctl", "stop", "-w", "-t",
        Long.toString(secs), "-m", mode, "-D", pg.pgdata().toString());
    Command.Result r = run.tryRun("pg_ctl stop -m " + mode, c, l -> {});
    if (r.ok() || !isRunning()) {
      log.info("{}: PostgreSQL stopped ({}) in {} ms", pg.label(), mode, r.elapsedMs());
      return true;
    }
    return false;
  }

  /** SIGKILL to the postmaster and every descendant (a SIGSTOPped child would otherwise keep shared memory). */
  private void kill() {
    OptionalLong pid = lock.pid();
    if (pid.isEmpty()) return;
    ProcessHandle.of(pid.getAsLong()).ifPresent(h -> {
      log.warn("{}: PostgreSQL did not stop: sending SIGKILL to postmaster {} and its children", pg.label(),
          pid.getAsLong());
      Command.killTree(h);
    });
    long deadline = System.nanoTime() + KILL_STEP.toNanos();
    while (!lock.stale() && lock.exists()) {
      if (System.nanoTime() > deadline) {
        throw new PgOpException.TimedOut(pg.label(), "stop", KILL_STEP.toMillis(),
            "postmaster " + pid.getAsLong() + " or its children survived SIGKILL");
      }
      pause(10);
    }
    lock.removeIfStale();
  }

  /** Waits for a dead postmaster's children to let go of shared memory, then removes its lock file. */
  void clearStaleLock(Duration wait) {
    lock.removeStaleSocketLock();
    if (!lock.exists()) return;
    long deadline = System.nanoTime() + wait.toNanos();
    while (!lock.stale()) {
      if (!lock.exists()) return;
      if (lock.postmasterAlive()) return;
      if (System.nanoTime() > deadline) {
        throw new PgOpException.Refused(pg.label(), "start", PgOpException.Refused.Reason.FOREIGN_POSTMASTER,
            "postmaster.pid names a dead postmaster but processes are still attached to its shared memory;"
                + " find and stop them (ps -u " + (pg.pgUser() == null ? "<pg user>" : pg.pgUser()) + ")");
      }
      pause(10);
    }
    if (lock.removeIfStale()) log.info("{}: removed stale postmaster.pid", pg.label());
  }

  /** The postmaster named by postmaster.pid is alive (a zombie is not). */
  public boolean isRunning() {
    return lock.postmasterAlive();
  }

  public OptionalLong postmasterPid() {
    return isRunning() ? lock.pid() : OptionalLong.empty();
  }

  /** Sends SIGHUP through pg_ctl reload. */
  public void reload() {
    if (!isRunning()) return;
    run.run("pg_ctl reload", pg.timeouts().sql(), "pg_ctl", "reload", "-s", "-D", pg.pgdata().toString());
  }

  /** pg_controldata, parsed. */
  public ControlData controlData() {
    if (!isCluster()) {
      throw new PgOpException.Refused(pg.label(), "pg_controldata", PgOpException.Refused.Reason.NOT_A_CLUSTER,
          pg.pgdata() + " is not a PostgreSQL cluster");
    }
    // the result's tail keeps the last 20 lines only; pg_controldata prints ~60, so collect them all
    List<String> lines = new ArrayList<>();
    run.run("pg_controldata", run.command("pg_controldata", pg.timeouts().sql(), "pg_controldata", "-D",
        pg.pgdata().toString()), lines::add);
    return ControlData.parse(String.join("\n", lines));
  }

  public long systemIdentifier() {
    return controlData().systemIdentifier();
  }

  /** Creates the socket and log directories and hands them (and PGDATA) to the PostgreSQL user. */
  void prepareDirs() {
    try {
      for (Path d : List.of(pg.pgdata(), pg.socketDir(), pg.logDir())) {
        boolean created = false;
        if (!Files.isDirectory(d)) {
          Files.createDirectories(d);
          created = true;
        }
        if (created || d.equals(pg.pgdata())) {
          Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwx------"));
        }
        if (created) OsUser.chown(d, pg.pgUser());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not prepare directories for " + pg.pgdata() + ": " + e.getMessage(), e);
    }
  }

  static void pause(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
