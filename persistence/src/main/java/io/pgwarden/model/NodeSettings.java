package io.pgwarden.model;

/** Per-node replication settings, as pg_auto_failover has them. */
public record NodeSettings(int candidatePriority, boolean replicationQuorum) {
  public static final NodeSettings DEFAULT = new NodeSettings(50, true);

  public NodeSettings {
    if (candidatePriority < 0 || candidatePriority > 100) {
      throw new IllegalArgumentException("candidate priority must be between 0 and 100, got " + candidatePriority);
    }
  }

  public boolean promotable() {
    return candidatePriority > 0;
  }

  public NodeSettings withPriority(int p) {
    return new NodeSettings(p, replicationQuorum);
  }

  public NodeSettings withQuorum(boolean q) {
    return new NodeSettings(candidatePriority, q);
  }
}
