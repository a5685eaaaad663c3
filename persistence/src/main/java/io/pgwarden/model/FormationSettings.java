package io.pgwarden.model;

/**
 * Formation-wide settings. {@code failoverDataLossAllowed} is the number of bytes of acknowledged WAL an
 * automatic failover out of wait_primary may lose; 0 (the default) forbids such failovers.
 */
public record FormationSettings(String dbname, int numberSyncStandbys, long failoverDataLossAllowed) {
  public static final FormationSettings DEFAULT = new FormationSettings("postgres", 0, 0);

  public FormationSettings {
    if (dbname == null || dbname.isBlank()) {
      throw new IllegalArgumentException("dbname must not be empty");
    }
    if (numberSyncStandbys < 0) {
      throw new IllegalArgumentException("number_sync_standbys must be >= 0, got " + numberSyncStandbys);
    }
    if (failoverDataLossAllowed < 0) {
      throw new IllegalArgumentException("failover_data_loss_allowed must be >= 0, got " + failoverDataLossAllowed);
    }
  }

  public FormationSettings withNumberSyncStandbys(int n) {
    return new FormationSettings(dbname, n, failoverDataLossAllowed);
  }

  public FormationSettings withFailoverDataLossAllowed(long bytes) {
    return new FormationSettings(dbname, numberSyncStandbys, bytes);
  }
}
