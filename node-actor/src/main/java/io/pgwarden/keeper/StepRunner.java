package io.pgwarden.keeper;

import io.pgwarden.keeper.pg.HbaConfig;
import io.pgwarden.keeper.pg.LocalFacts;
import io.pgwarden.keeper.pg.LocalPg;
import io.pgwarden.keeper.pg.PgCluster;
import io.pgwarden.keeper.pg.PgOpException;
import io.pgwarden.keeper.pg.PgOps;
import io.pgwarden.keeper.pg.RejoinResult;
import io.pgwarden.keeper.pg.ReplicationConfig;
import io.pgwarden.keeper.pg.StandbyConfig;
import io.pgwarden.model.Lsn;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.PeerInfo;
import io.pgwarden.model.RejoinInfo;
import io.pgwarden.model.TermSeq;
import io.pgwarden.os.Dirs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the keeper's steps against the local PostgreSQL: every {@link Step} kind mapped onto the
 * operations of {@code io.pgwarden.keeper.pg}. Blocking, one call at a time (the {@link ExecutorActor}
 * calls it on its own dispatcher). Each step runs under a time budget (a watchdog interrupts it, which
 * kills a running command) and, when its failure looks transient, is retried a bounded number of times
 * with backoff; a segment is never begun after its {@code notAfterMono}, and a retry is never made after
 * it either.
 */
public final class StepRunner implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(StepRunner.class);
  static final String INITDB_MARKER = "initdb.in-progress";
  private static final int ATTEMPTS = 3;
  private static final long FIRST_BACKOFF_MS = 100;

  /** Called before every step; may block. Tests use it to hold a transition at a chosen step. */
  public interface Hook {
    void beforeStep(Step step, Action.RunSteps segment) throws InterruptedException;

    Hook NONE = (s, r) -> { };
  }

  /** Who this keeper is, for log lines a person can act on. */
  public record Identity(String formation, int nodeId, String name) {
    public String label() {
      return "node " + nodeId + (name == null ? "" : " (" + name + ")") + " of formation " + formation;
    }
  }

  /** A step that cannot be done here at all: reported as Unsupported, not retried until a new goal. */
  static final class UnsupportedStep extends RuntimeException {
    UnsupportedStep(String message) {
      super(message);
    }
  }

  /** A step whose precondition does not hold (yet); retried only when {@code transient}. */
  static final class StepFailed extends RuntimeException {
    final boolean transientFailure;

    StepFailed(String message, boolean transientFailure) {
      super(message);
      this.transientFailure = transientFailure;
    }
  }

  private final LocalPg pg;
  private final PgOps ops;
  private final Identity id;
  private final Path keeperDir;
  private final KeeperClock clock;
  private final Hook hook;
  private final ScheduledExecutorService watchdog;
  private boolean roleEnsured;
  private Thread current;
  private volatile boolean aborted;

  public StepRunner(LocalPg pg, Identity id, Path keeperDir, KeeperClock clock, Hook hook) {
    this.pg = pg;
    this.ops = new PgOps(pg);
    this.id = id;
    this.keeperDir = keeperDir;
    this.clock = clock;
    this.hook = hook == null ? Hook.NONE : hook;
    this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "pgwarden-step-watchdog-" + id.nodeId());
      t.setDaemon(true);
      return t;
    });
  }

  public PgOps ops() {
    return ops;
  }

  // ------------------------------------------------------------------ transitions

  /**
   * As if the process died: the step running now is interrupted (a running command is killed with its
   * process tree) and nothing more is done.
   */
  public void abort() {
    synchronized (this) {
      aborted = true;
      if (current != null) current.interrupt();
    }
  }

  /** Runs one segment; never throws. */
  public Event.Outcome run(Action.RunSteps rs) {
    synchronized (this) {
      current = Thread.currentThread();
    }
    try {
      return runSegment(rs);
    } finally {
      synchronized (this) {
        current = null;
        Thread.interrupted(); // an abort's interrupt ends here, not in the dispatcher's thread pool
      }
    }
  }

  private Event.Outcome runSegment(Action.RunSteps rs) {
    String what = "transition " + rs.from() + " -> " + rs.to() + " (goal " + rs.stamp() + ")";
    long late = clock.monoMs() - rs.notAfterMono();
    if (late > 0) {
      String why = what + ": refused to begin [" + labels(rs.steps()) + "]: the write lease or permit its gate"
          + " checked ended " + late + " ms ago";
      log.warn("{}: {}", id.label(), why);
      return new Event.Failed(why);
    }
    log.info("{}: {}: running [{}]", id.label(), what, labels(rs.steps()));
    long t0 = clock.monoMs();
    RejoinInfo rejoined = null;
    for (Step step : rs.steps()) {
      if (step.isGate()) {
        return new Event.Unsupported("the gate '" + step.label() + "' was handed to the executor");
      }
      if (aborted) return new Event.Failed(what + ": the keeper is stopping");
      try {
        hook.beforeStep(step, rs);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return new Event.Failed(what + ": interrupted before step '" + step.label() + "'");
      }
      Attempt a = runWithRetries(step, rs, what);
      if (a.outcome != null) return a.outcome;
      if (a.rejoin != null) rejoined = a.rejoin;
    }
    log.info("{}: {}: [{}] done in {} ms", id.label(), what, labels(rs.steps()), clock.monoMs() - t0);
    return new Event.Ok(rejoined);
  }

  private record Attempt(Event.Outcome outcome, RejoinInfo rejoin) {}

  private Attempt runWithRetries(Step step, Action.RunSteps rs, String what) {
    int max = retriable(step) ? ATTEMPTS : 1;
    long backoff = FIRST_BACKOFF_MS;
    for (int attempt = 1; ; attempt++) {
      long t0 = clock.monoMs();
      try {
        RejoinInfo r = timed(step, () -> exec(step, rs.context(), rs.stamp(), rs.to()));
        log.debug("{}: {}: step '{}' done in {} ms", id.label(), what, step.label(), clock.monoMs() - t0);
        return new Attempt(null, r);
      } catch (UnsupportedStep e) {
        log.error("{}: {}: step '{}' cannot be done here: {}", id.label(), what, step.label(), e.getMessage());
        return new Attempt(new Event.Unsupported("step '" + step.label() + "': " + e.getMessage()), null);
      } catch (RuntimeException e) {
        String detail = describe(e);
        boolean again = attempt < max && transientFailure(e);
        long late = clock.monoMs() + backoff - rs.notAfterMono();
        if (again && late > 0) {
          again = false;
          detail += " (no retry: the lease or permit of this segment ends before it could be made)";
        }
        log.warn("{}: {}: step '{}' failed (attempt {}/{}, {} ms){}: {}", id.label(), what, step.label(), attempt, max,
            clock.monoMs() - t0, again ? ", retrying in " + backoff + " ms" : "", detail);
        if (!again) {
          return new Attempt(new Event.Failed("step '" + step.label() + "' failed: " + detail), null);
        }
        sleep(backoff);
        backoff *= 3;
      }
    }
  }

  /** The step kinds worth retrying in place: cheap, idempotent, failing mostly on transient causes. */
  private static boolean retriable(Step s) {
    return !(s instanceof Step.Clone || s instanceof Step.RewindOrClone || s instanceof Step.InitDb
        || s instanceof Step.AwaitReplay || s instanceof Step.AwaitSyncStandbys);
  }

  private static boolean transientFailure(RuntimeException e) {
    if (e instanceof StepFailed f) return f.transientFailure;
    if (e instanceof PgOpException.Refused r) {
      return r.reason() == PgOpException.Refused.Reason.SOURCE_NOT_CHECKPOINTED
          || r.reason() == PgOpException.Refused.Reason.SOURCE_IN_RECOVERY
          || r.reason() == PgOpException.Refused.Reason.NOT_RUNNING;
    }
    if (e instanceof PgOpException.SqlFailed s) {
      String st = s.sqlState();
      return st == null || st.startsWith("08") || st.equals("57P03") || st.equals("53300") || st.startsWith("40");
    }
    return e instanceof PgOpException.TimedOut || e instanceof PgOpException.CommandFailed;
  }

  private static String describe(RuntimeException e) {
    if (e instanceof PgOpException) return e.getMessage();
    if (e instanceof StepFailed || e instanceof StepTimedOut) return e.getMessage();
    return e.toString();
  }

  // ------------------------------------------------------------------ the step budget

  private static final class StepTimedOut extends RuntimeException {
    StepTimedOut(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private interface Body<T> {
    T run();
  }

  /** Runs {@code body} under the step's budget: at the deadline the thread is interrupted (a command dies). */
  private <T> T timed(Step step, Body<T> body) {
    Duration budget = budget(step);
    Thread me = Thread.currentThread();
    Object lock = new Object();
    boolean[] state = new boolean[2]; // [0] done, [1] fired
    ScheduledFuture<?> f = watchdog.schedule(() -> {
      synchronized (lock) {
        if (!state[0]) {
          state[1] = true;
          me.interrupt();
        }
      }
    }, budget.toMillis(), TimeUnit.MILLISECONDS);
    try {
      return body.run();
    } catch (RuntimeException e) {
      synchronized (lock) {
        if (state[1]) {
          throw new StepTimedOut("step '" + step.label() + "' exceeded its budget of " + budget.toMillis()
              + " ms and was interrupted: " + describe(e), e);
        }
      }
      throw e;
    } finally {
      synchronized (lock) {
        state[0] = true;
      }
      f.cancel(false);
      Thread.interrupted(); // a watchdog interrupt must not leak into the next step
    }
  }

  private Duration budget(Step s) {
    LocalPg.Timeouts t = pg.timeouts();
    if (s instanceof Step.Clone) return t.basebackup().plusMinutes(1);
    if (s instanceof Step.RewindOrClone) return t.rewind().plus(t.basebackup()).plusMinutes(1);
    if (s instanceof Step.InitDb) return t.start().plusMinutes(1);
    if (s instanceof Step.Start) return t.start().plusSeconds(30);
    if (s instanceof Step.Stop) return t.stop().plusSeconds(30);
    if (s instanceof Step.Promote) return t.promote().plus(t.sql()).plusSeconds(30);
    if (s instanceof Step.Checkpoint || s instanceof Step.AwaitReplay) return Duration.ofMinutes(10);
    if (s instanceof Step.WriteStandbySetup) return t.stop().plus(t.start()).plusSeconds(30);
    return Duration.ofMinutes(2);
  }

  // ------------------------------------------------------------------ the mapping

  private RejoinInfo exec(Step step, StepContext ctx, TermSeq stamp, NodeState to) {
    if (step instanceof Step.InitDb) {
      initDb();
    } else if (step instanceof Step.ConfigureInstance) {
      ops.cluster().adopt();
      writeHba(ctx.peers());
    } else if (step instanceof Step.CreateDatabase) {
      ops.sql().ensureReplicationRole();
      roleEnsured = true;
      String db = ctx.dbname() == null || ctx.dbname().isBlank() ? "postgres" : ctx.dbname();
      ops.sql().createDatabaseIfMissing(db);
    } else if (step instanceof Step.Clone c) {
      clone(upstream(ctx, step), c.source() == Step.CloneSource.PRIMARY_WITH_SLOT ? pg.applicationName() : null);
    } else if (step instanceof Step.RewindOrClone) {
      return rewindOrClone(upstream(ctx, step), stamp);
    } else if (step instanceof Step.Start) {
      if (ops.dropPassedRecoveryTarget()) log.info("{}: dropped a recovery target already passed", id.label());
      ops.cluster().start();
    } else if (step instanceof Step.Stop) {
      ops.cluster().stop(PgCluster.StopMode.FAST);
    } else if (step instanceof Step.Checkpoint) {
      if (ops.cluster().isRunning()) {
        ops.sql().checkpoint(Duration.ofMinutes(5));
      } else {
        log.info("{}: checkpoint skipped: PostgreSQL is not running (its shutdown checkpoint stands)", id.label());
      }
    } else if (step instanceof Step.WriteStandbySetup w) {
      standbySetup(w.upstream(), ctx, step);
    } else if (step instanceof Step.RemoveStandbySetup) {
      ops.standby().clear();
      ops.cluster().reload();
    } else if (step instanceof Step.AwaitReplay) {
      awaitReplay(ctx);
    } else if (step instanceof Step.VerifyTimeline) {
      verifyTimeline(upstream(ctx, step));
    } else if (step instanceof Step.Promote) {
      ops.promoter().promote(pg.timeouts().promote(), false); // every plan checkpoints in a step of its own
    } else if (step instanceof Step.SetSyncStandbyNames s) {
      ops.sql().setSynchronousStandbyNames(s.value() == Step.SyncNames.EMPTY ? "" : ctx.syncStandbyNames());
    } else if (step instanceof Step.CancelSyncRepWaiters) {
      if (ops.cluster().isRunning()) ops.sql().cancelSyncRepWaiters();
    } else if (step instanceof Step.AwaitSyncStandbys) {
      ops.sql().awaitSyncStandbys(Duration.ofSeconds(30));
    } else if (step instanceof Step.SetDefaultReadOnly r) {
      ops.sql().setDefaultReadOnly(r.on());
    } else if (step instanceof Step.MaintainPeers) {
      maintainPeers(ctx.peers());
    } else if (step instanceof Step.DropLocalSlots) {
      Set<String> gone = ops.dropLocalSlots();
      if (!gone.isEmpty()) log.info("{}: dropped local slots {}", id.label(), gone);
    } else {
      throw new UnsupportedStep("the executor has no mapping for step '" + step.label() + "'");
    }
    return null;
  }

  private StandbyConfig.Upstream upstream(StepContext ctx, Step step) {
    PeerInfo p = ctx.upstream();
    if (p == null || p.address() == null) {
      throw new StepFailed("the controller has named no upstream to " + step.label() + " yet", false);
    }
    return new StandbyConfig.Upstream(p.address().host(), p.address().port());
  }

  /**
   * initdb into an empty PGDATA, or adopt the cluster that is there. A marker in the keeper's directory
   * spans initdb: a keeper killed during initdb leaves a half-made PGDATA, which the retry removes and
   * makes again; anything else non-empty that is not a cluster is refused.
   */
  private void initDb() {
    Path data = pg.pgdata();
    Path marker = keeperDir.resolve(INITDB_MARKER);
    boolean interrupted = Files.exists(marker);
    PgCluster c = ops.cluster();
    if (!interrupted && c.isCluster()) {
      c.adopt();
      return;
    }
    if (!isEmptyOrMissing(data)) {
      if (!interrupted) {
        throw new UnsupportedStep(data + " is not empty and holds no PostgreSQL cluster; empty it or point --pgdata"
            + " elsewhere (pgwarden never deletes data it did not make)");
      }
      if (c.isRunning()) {
        throw new UnsupportedStep("a postmaster runs in " + data + " although pgwarden's initdb never finished there;"
            + " stop it");
      }
      log.warn("{}: an earlier initdb of {} was interrupted: removing what it left and starting over", id.label(),
          data);
      Dirs.deleteTree(data);
    }
    try {
      Files.createDirectories(keeperDir);
      Files.writeString(marker, "initdb of " + data + " started by pgwarden\n");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + marker + ": " + e.getMessage(), e);
    }
    c.initdb();
    try {
      Files.deleteIfExists(marker);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove " + marker + ": " + e.getMessage(), e);
    }
  }

  private static boolean isEmptyOrMissing(Path dir) {
    if (!Files.exists(dir)) return true;
    try (var s = Files.list(dir)) {
      return s.findAny().isEmpty();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void clone(StandbyConfig.Upstream up, String slot) {
    int[] lastDecile = {-1};
    ops.basebackup().clone(up, slot, null, pg.timeouts().basebackup(), p -> {
      if (p.percent() / 10 > lastDecile[0]) {
        lastDecile[0] = p.percent() / 10;
        log.info("{}: clone from {}:{}: {} of {} kB ({}%)", id.label(), up.host(), up.port(), p.doneKb(), p.totalKb(),
            p.percent());
      }
    });
  }

  /**
   * pg_rewind (or a clone when that cannot work). A retry of the same transition — in this process or
   * after a restart — finds nothing left to rewind ("none"): the rejoin that really happened for this
   * goal is kept in the keeper's directory ({@link #REJOIN_FILE}) and reported instead.
   */
  private RejoinInfo rewindOrClone(StandbyConfig.Upstream up, TermSeq stamp) {
    RejoinInfo info;
    if (!ops.cluster().isCluster()) {
      log.info("{}: {} holds no cluster: cloning from {}:{} instead of rewinding", id.label(), pg.pgdata(), up.host(),
          up.port());
      clone(up, pg.applicationName());
      info = new RejoinInfo(stamp, RejoinResult.PG_BASEBACKUP, 0, 0, 0);
    } else {
      RejoinResult r = ops.rewinder().rewindOrClone(up, pg.applicationName(), null, null, null);
      info = r.toRejoinInfo(stamp);
      log.info("{}: rejoined by {}: {} bytes discarded, timeline {} -> {}{}", id.label(), r.method(),
          r.bytesDiscarded(), r.fromTimeline(), r.toTimeline(),
          r.fallbackReason() == null ? "" : " (pg_rewind impossible: " + r.fallbackReason() + ")");
    }
    RejoinInfo earlier = readRejoin();
    if (RejoinResult.NONE.equals(info.method()) && earlier != null && stamp.equals(earlier.stamp())
        && !RejoinResult.NONE.equals(earlier.method())) {
      log.info("{}: reporting the {} of this goal's earlier attempt ({} bytes discarded)", id.label(), earlier.method(),
          earlier.bytesDiscarded());
      return earlier;
    }
    writeRejoin(info);
    return info;
  }

  /** The last rejoin, kept across restarts so that a retried transition reports what really happened. */
  static final String REJOIN_FILE = "last-rejoin.json";

  private RejoinInfo readRejoin() {
    Path f = keeperDir.resolve(REJOIN_FILE);
    try {
      return Files.exists(f) ? io.pgwarden.persistence.Json.read(Files.readString(f), RejoinInfo.class) : null;
    } catch (IOException | RuntimeException e) {
      log.warn("{}: ignoring an unreadable {}: {}", id.label(), f, e.getMessage());
      return null;
    }
  }

  private void writeRejoin(RejoinInfo info) {
    Path f = keeperDir.resolve(REJOIN_FILE);
    Path tmp = keeperDir.resolve("." + REJOIN_FILE + ".tmp");
    try {
      Files.createDirectories(keeperDir);
      Files.writeString(tmp, io.pgwarden.persistence.Json.write(info) + "\n");
      Files.move(tmp, f, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      log.warn("{}: cannot keep the rejoin in {}: {}", id.label(), f, e.getMessage());
    }
  }

  private void standbySetup(Step.Upstream kind, StepContext ctx, Step step) {
    if (kind == Step.Upstream.NONE) {
      ops.writeStandbyAndReload(null, null);
    } else if (kind == Step.Upstream.PRIMARY) {
      ops.writeStandbyAndReload(upstream(ctx, step), pg.applicationName());
    } else {
      Lsn target = ctx.fastForwardTo();
      if (target == null || target.isZero()) {
        throw new StepFailed("the controller has given no fast-forward target LSN yet", false);
      }
      PgOps.FastForward ff = ops.writeFastForwardAndApply(upstream(ctx, step), target);
      log.info("{}: fast-forward from {}: recovery target {} (replayed {} before){}", id.label(),
          ctx.upstream().address(), ff.target() == null ? "none, already past " + target : ff.target(),
          ff.replayedBefore(), ff.restarted() ? ", restarted for the target to apply" : "");
    }
  }

  private void awaitReplay(StepContext ctx) {
    Lsn target = ctx.fastForwardTo();
    if (target == null || target.isZero()) {
      throw new StepFailed("the controller has given no fast-forward target LSN yet", false);
    }
    LocalFacts f = ops.facts().await("replay of " + target, x -> x.running() && x.replayLsn().compareTo(target) >= 0,
        Duration.ofMinutes(5), 20);
    log.info("{}: replayed {} (target {})", id.label(), f.replayLsn(), target);
  }

  private void verifyTimeline(StandbyConfig.Upstream up) {
    long deadline = clock.monoMs() + 10_000;
    while (true) {
      int theirs = ops.sql().upstreamTimeline(up);
      LocalFacts f = ops.facts().read();
      if (!f.running()) throw new StepFailed("PostgreSQL is not running here (" + f.detail() + ")", true);
      if (f.timeline() == theirs) return;
      if (clock.monoMs() > deadline) {
        throw new StepFailed("this node is on timeline " + f.timeline() + ", its upstream " + up.host() + ":"
            + up.port() + " on " + theirs, true);
      }
      sleep(50);
    }
  }

  // ------------------------------------------------------------------ ensure

  /** Ensure: start PostgreSQL, unless the authority it needs ends before it could begin. */
  public void start(boolean readOnly, long notAfterMono) {
    if (aborted) return;
    long late = clock.monoMs() - notAfterMono;
    if (late > 0) {
      log.warn("{}: not starting PostgreSQL: the authority to start it ended {} ms ago", id.label(), late);
      return;
    }
    try {
      PgCluster c = ops.cluster();
      if (c.isRunning() || !c.isCluster()) return;
      ops.dropPassedRecoveryTarget();
      if (readOnly && !ops.standby().isStandby()) {
        ReplicationConfig rc = new ReplicationConfig(pg);
        ReplicationConfig.Values v = rc.read();
        if (!v.defaultReadOnly()) rc.write(new ReplicationConfig.Values(v.synchronousStandbyNames(), true));
      }
      if (c.start()) log.info("{}: PostgreSQL started (ensure{})", id.label(), readOnly ? ", read-only" : "");
    } catch (RuntimeException e) {
      log.warn("{}: ensure: starting PostgreSQL failed: {}", id.label(), describe(e));
    }
  }

  /** Ensure: stop PostgreSQL cleanly. */
  public void stop(String reason) {
    if (aborted) return;
    try {
      PgCluster.Stopped s = ops.cluster().stop(PgCluster.StopMode.FAST);
      if (s != PgCluster.Stopped.NOT_RUNNING) log.info("{}: PostgreSQL stopped ({}): {}", id.label(), s, reason);
    } catch (RuntimeException e) {
      log.warn("{}: ensure: stopping PostgreSQL failed: {}", id.label(), describe(e));
    }
  }

  /** Ensure: slots and HBA entries for the peers. */
  public void ensurePeers(List<PeerInfo> peers) {
    if (aborted) return;
    try {
      maintainPeers(peers);
    } catch (RuntimeException e) {
      log.warn("{}: ensure: maintaining peer slots and HBA entries failed: {}", id.label(), describe(e));
    }
  }

  /**
   * HBA entries for every peer not being dropped; on a primary also the replication role and one slot per
   * such peer (pgwarden_ slots of nodes gone are dropped). Standbys keep no slots: nothing would advance
   * them.
   */
  private void maintainPeers(List<PeerInfo> peers) {
    List<PeerInfo> active = new ArrayList<>();
    for (PeerInfo p : peers) {
      if (p.nodeId() != pg.nodeId() && p.goal() != NodeState.DROPPED && p.address() != null) active.add(p);
    }
    active.sort(Comparator.comparingInt(PeerInfo::nodeId));
    writeHba(active);
    PgCluster c = ops.cluster();
    if (!c.isRunning()) return;
    LocalFacts f = ops.facts().read();
    if (!f.running() || f.inRecovery()) return;
    if (!roleEnsured) {
      ops.sql().ensureReplicationRole();
      roleEnsured = true;
    }
    Set<String> slots = new TreeSet<>();
    for (PeerInfo p : active) slots.add(LocalPg.nameFor(p.nodeId()));
    ops.slots().ensure(slots);
  }

  private void writeHba(List<PeerInfo> peers) {
    List<HbaConfig.Peer> hba = new ArrayList<>();
    for (PeerInfo p : peers) {
      if (p.nodeId() != pg.nodeId() && p.goal() != NodeState.DROPPED && p.address() != null) {
        hba.add(new HbaConfig.Peer(p.nodeId(), p.address().host()));
      }
    }
    ops.writeHbaAndReload(hba);
  }

  // ------------------------------------------------------------------ helpers

  private static String labels(List<Step> steps) {
    List<String> l = new ArrayList<>();
    for (Step s : steps) l.add(s.label());
    return String.join(" → ", l);
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StepFailed("interrupted", false);
    }
  }

  @Override
  public void close() {
    watchdog.shutdownNow();
  }
}
