package io.pgwarden.model;

import java.util.List;

/**
 * What a keeper tells the controller on every loop: the state it has reached, the last goal it
 * executed, and the facts read from its PostgreSQL in one query. Ages are measured on the keeper's own
 * clock so that no clock comparison between hosts is ever needed.
 *
 * @param state the state the keeper has reached (its current role)
 * @param executed the stamp of the last goal it executed completely
 * @param knownTerm the highest term it has heard of (from the controller or peers)
 * @param lsn flush LSN on a primary; receive (else replay) LSN on a standby
 * @param syncStandbyNames the synchronous_standby_names value PostgreSQL has in effect
 * @param primaryProbeAgeMs a standby's age of its last successful probe of the primary; null if none
 * @param fenced true when the keeper stopped PostgreSQL because its write lease ran out
 * @param error a transition that failed or is unsupported, for the controller's log and the audit
 */
public record NodeReport(
    NodeState state,
    TermSeq executed,
    long knownTerm,
    PgStatus pg,
    boolean inRecovery,
    long systemIdentifier,
    int timeline,
    Lsn lsn,
    Lsn replayLsn,
    String syncStandbyNames,
    List<WalSenderInfo> walSenders,
    WalReceiverInfo walReceiver,
    Long primaryProbeAgeMs,
    boolean fenced,
    RejoinInfo lastRejoin,
    String error) {

  public NodeReport {
    walSenders = walSenders == null ? List.of() : List.copyOf(walSenders);
    lsn = lsn == null ? Lsn.ZERO : lsn;
    replayLsn = replayLsn == null ? Lsn.ZERO : replayLsn;
    executed = executed == null ? TermSeq.NONE : executed;
    syncStandbyNames = syncStandbyNames == null ? "" : syncStandbyNames;
  }

  /** A report with no PostgreSQL facts yet, as sent by a keeper that has just registered. */
  public static NodeReport initial(NodeState state, TermSeq executed, long knownTerm) {
    return new NodeReport(state, executed, knownTerm, PgStatus.STOPPED, false, 0, 0, Lsn.ZERO, Lsn.ZERO, "",
        List.of(), null, null, false, null, null);
  }
}
