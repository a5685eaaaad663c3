package io.pgwarden.keeper.pg;

import java.util.List;

/**
 * The PostgreSQL operations of one node, as the keeper's executor calls them. Every method blocks;
 * every external command runs with a timeout as the PostgreSQL user; failures are {@link PgOpException}s.
 *
 * <pre>
 *   PgOps ops = new PgOps(localPg);
 *   ops.cluster().initdb(); ops.cluster().start(); ops.sql().ensureReplicationRole();
 *   LocalFacts f = ops.facts().read();
 * </pre>
 */
public final class PgOps {
  private final LocalPg pg;

  public PgOps(LocalPg pg) {
    this.pg = pg;
  }

  public LocalPg local() {
    return pg;
  }

  public PgCluster cluster() {
    return new PgCluster(pg);
  }

  public FactsReader facts() {
    return new FactsReader(pg);
  }

  public SqlSteps sql() {
    return new SqlSteps(pg);
  }

  public Slots slots() {
    return new Slots(pg);
  }

  public StandbyConfig standby() {
    return new StandbyConfig(pg);
  }

  public HbaConfig hba() {
    return new HbaConfig(pg);
  }

  public Promoter promoter() {
    return new Promoter(pg);
  }

  public BaseBackup basebackup() {
    return new BaseBackup(pg);
  }

  public Rewinder rewinder() {
    return new Rewinder(pg);
  }

  /**
   * Drops every pgwarden_ replication slot of this node (a former primary's slots hold stale xmin and
   * WAL): through SQL when it runs, else by removing them from pg_replslot. Returns the slots dropped.
   */
  public java.util.SortedSet<String> dropLocalSlots() {
    if (cluster().isRunning()) return slots().ensure(java.util.Set.of()).dropped();
    java.util.SortedSet<String> gone = new java.util.TreeSet<>();
    java.nio.file.Path dir = pg.pgdata().resolve("pg_replslot");
    if (!java.nio.file.Files.isDirectory(dir)) return gone;
    try (java.util.stream.Stream<java.nio.file.Path> s = java.nio.file.Files.list(dir)) {
      for (java.nio.file.Path p : (Iterable<java.nio.file.Path>) s::iterator) {
        String name = p.getFileName().toString();
        if (LocalPg.nodeIdOf(name) == null) continue;
        PgFiles.deleteTree(p);
        gone.add(name);
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return gone;
  }

  /** Rewrites the pg_hba.conf block for these peers and reloads a running server. */
  public void writeHbaAndReload(List<HbaConfig.Peer> peers) {
    hba().write(peers);
    cluster().reload();
  }

  /**
   * The fast_forward setup: follow {@code source} (the most advanced standby, no slot) and replay up to
   * {@code target}, where replay pauses. Recovery targets apply only at server start, so a running
   * server whose target changes is restarted (fast). When this node has already replayed {@code target}
   * the target is left out (PostgreSQL refuses to start with a target before its consistent point) and
   * the setup only follows the source. Returns what was done.
   */
  public FastForward writeFastForwardAndApply(StandbyConfig.Upstream source, io.pgwarden.model.Lsn target) {
    if (target == null || target.isZero()) {
      throw new PgOpException.Refused(pg.label(), "fast-forward setup", PgOpException.Refused.Reason.BAD_INPUT,
          "no fast-forward target LSN given");
    }
    PgCluster c = cluster();
    io.pgwarden.model.Lsn have;
    if (c.isRunning()) {
      LocalFacts f = facts().read();
      have = f.running() ? f.replayLsn() : io.pgwarden.model.Lsn.ZERO;
    } else if (c.isCluster()) {
      ControlData cd = c.controlData();
      have = io.pgwarden.model.Lsn.max(cd.minRecoveryEnd(), cd.checkpointLocation());
    } else {
      have = io.pgwarden.model.Lsn.ZERO;
    }
    io.pgwarden.model.Lsn effective = have.compareTo(target) >= 0 ? null : target;
    StandbyConfig sc = standby();
    io.pgwarden.model.Lsn before = sc.recoveryTarget();
    sc.write(source, null, effective);
    boolean restarted = false;
    if (c.isRunning()) {
      if (!java.util.Objects.equals(before, effective)) {
        c.stop(PgCluster.StopMode.FAST);
        c.start();
        restarted = true;
      } else {
        c.reload();
      }
    }
    return new FastForward(effective, have, restarted);
  }

  /**
   * What {@link #writeFastForwardAndApply} did: the recovery target written (null when this node had
   * already replayed past it), the replay position it found, and whether it restarted the server.
   */
  public record FastForward(io.pgwarden.model.Lsn target, io.pgwarden.model.Lsn replayedBefore, boolean restarted) {}

  /**
   * Points this standby at {@code upstream} (or at nothing) and reloads a running server — or restarts it
   * when it runs with a recovery target (the fast_forward setup): a target is only dropped by a restart,
   * and a promotion while one is set but not reached ends in "recovery ended before configured recovery
   * target was reached", which shuts the server down.
   */
  public void writeStandbyAndReload(StandbyConfig.Upstream upstream, String slot) {
    PgCluster c = cluster();
    boolean targetActive = false;
    if (c.isRunning()) {
      try {
        targetActive = !sql().currentSetting("recovery_target_lsn").isEmpty();
      } catch (PgOpException.SqlFailed e) {
        targetActive = standby().recoveryTarget() != null; // cannot ask: go by the file
      }
    }
    standby().write(upstream, slot);
    if (targetActive) {
      c.stop(PgCluster.StopMode.FAST);
      c.start();
    } else {
      c.reload();
    }
  }

  /**
   * Before a start: a recovery target that this node's data has already passed is dropped from the
   * standby setup (PostgreSQL refuses to start with a target before its consistent point). Returns true
   * when it dropped one.
   */
  public boolean dropPassedRecoveryTarget() {
    StandbyConfig sc = standby();
    io.pgwarden.model.Lsn target = sc.recoveryTarget();
    PgCluster c = cluster();
    if (target == null || c.isRunning() || !c.isCluster()) return false;
    ControlData cd = c.controlData();
    if (io.pgwarden.model.Lsn.max(cd.minRecoveryEnd(), cd.checkpointLocation()).compareTo(target) < 0) return false;
    return sc.clearRecoveryTarget();
  }
}
