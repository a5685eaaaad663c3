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

  /** Rewrites the pg_hba.conf block for these peers and reloads a running server. */
  public void writeHbaAndReload(List<HbaConfig.Peer> peers) {
    hba().write(peers);
    cluster().reload();
  }

  /** Points this standby at {@code upstream} (or at nothing) and reloads a running server. */
  public void writeStandbyAndReload(StandbyConfig.Upstream upstream, String slot) {
    standby().write(upstream, slot);
    cluster().reload();
  }
}
