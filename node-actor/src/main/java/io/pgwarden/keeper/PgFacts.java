package io.pgwarden.keeper;

import io.pgwarden.model.Lsn;
import io.pgwarden.model.PgStatus;
import io.pgwarden.model.WalReceiverInfo;
import io.pgwarden.model.WalSenderInfo;
import java.util.List;

/**
 * What the keeper last read of its own PostgreSQL, in one facts query (the shell maps the operations
 * layer's facts onto this). Ages are on the keeper's own clock.
 *
 * @param pg RUNNING, HUNG (postmaster alive, query unanswered) or STOPPED; the keeper itself decides FAILED
 * @param inRecovery pg_is_in_recovery(); for HUNG the keeper keeps the last value it knew
 * @param syncStandbyNames synchronous_standby_names in effect
 * @param primaryProbeAgeMs age of this node's last successful probe of the primary; null if none
 */
public record PgFacts(
    PgStatus pg,
    boolean inRecovery,
    long systemIdentifier,
    int timeline,
    Lsn lsn,
    Lsn replayLsn,
    String syncStandbyNames,
    List<WalSenderInfo> walSenders,
    WalReceiverInfo walReceiver,
    Long primaryProbeAgeMs) {

  public PgFacts {
    walSenders = walSenders == null ? List.of() : List.copyOf(walSenders);
    lsn = lsn == null ? Lsn.ZERO : lsn;
    replayLsn = replayLsn == null ? Lsn.ZERO : replayLsn;
    syncStandbyNames = syncStandbyNames == null ? "" : syncStandbyNames;
  }

  public static PgFacts stopped() {
    return new PgFacts(PgStatus.STOPPED, false, 0, 0, Lsn.ZERO, Lsn.ZERO, "", List.of(), null, null);
  }

  /** A running primary (not in recovery). */
  public static PgFacts primary(String syncStandbyNames) {
    return new PgFacts(PgStatus.RUNNING, false, 0, 1, Lsn.ZERO, Lsn.ZERO, syncStandbyNames, List.of(), null, null);
  }

  /** A running standby. */
  public static PgFacts standby() {
    return new PgFacts(PgStatus.RUNNING, true, 0, 1, Lsn.ZERO, Lsn.ZERO, "", List.of(), null, null);
  }

  public PgFacts withInRecovery(boolean r) {
    return new PgFacts(pg, r, systemIdentifier, timeline, lsn, replayLsn, syncStandbyNames, walSenders, walReceiver,
        primaryProbeAgeMs);
  }

  /** PostgreSQL may be accepting writes: the postmaster lives and it is not in recovery. */
  public boolean mayWrite() {
    return pg.alive() && !inRecovery;
  }
}
