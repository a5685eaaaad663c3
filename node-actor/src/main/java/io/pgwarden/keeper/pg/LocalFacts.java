package io.pgwarden.keeper.pg;

import io.pgwarden.model.Lsn;
import io.pgwarden.model.NodeReport;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.PgStatus;
import io.pgwarden.model.RejoinInfo;
import io.pgwarden.model.TermSeq;
import io.pgwarden.model.WalReceiverInfo;
import io.pgwarden.model.WalSenderInfo;
import java.util.List;
import java.util.function.BiFunction;

/**
 * What the local PostgreSQL said in one facts query (or why it said nothing).
 *
 * @param status RUNNING (answered), HUNG (postmaster alive, query failed or timed out), STOPPED
 * @param detail why the status is not RUNNING; null when it is
 * @param timeline the timeline the server is on now: on a primary the WAL insert timeline (correct right
 *     after promotion, before any checkpoint); on a standby the WAL receiver's received_tli, else the
 *     larger of the checkpoint and minimum-recovery timelines
 * @param checkpointTimeline pg_control's "Latest checkpoint's TimeLineID": what pg_rewind on a peer
 *     would see; lags {@code timeline} after a promotion until a checkpoint completes
 * @param lsn flush LSN on a primary; receive LSN (else replay LSN) on a standby
 * @param upstreamEndLsn on a standby: the end of WAL its upstream last reported having
 *     (pg_stat_wal_receiver.latest_end_lsn, at most about a second old while streaming); ZERO otherwise
 * @param queryMs how long the query took, connection included
 */
public record LocalFacts(
    PgStatus status,
    String detail,
    boolean inRecovery,
    long systemIdentifier,
    int timeline,
    int checkpointTimeline,
    Lsn lsn,
    Lsn receiveLsn,
    Lsn replayLsn,
    Lsn upstreamEndLsn,
    String syncStandbyNames,
    boolean defaultReadOnly,
    List<WalSenderInfo> walSenders,
    WalReceiverInfo walReceiver,
    long queryMs) {

  public LocalFacts {
    walSenders = walSenders == null ? List.of() : List.copyOf(walSenders);
    lsn = lsn == null ? Lsn.ZERO : lsn;
    receiveLsn = receiveLsn == null ? Lsn.ZERO : receiveLsn;
    replayLsn = replayLsn == null ? Lsn.ZERO : replayLsn;
    upstreamEndLsn = upstreamEndLsn == null ? Lsn.ZERO : upstreamEndLsn;
    syncStandbyNames = syncStandbyNames == null ? "" : syncStandbyNames;
  }

  static LocalFacts without(PgStatus status, String detail, long queryMs) {
    return without(status, detail, false, queryMs);
  }

  static LocalFacts without(PgStatus status, String detail, boolean inRecovery, long queryMs) {
    return new LocalFacts(status, detail, inRecovery, 0, 0, 0, Lsn.ZERO, Lsn.ZERO, Lsn.ZERO, Lsn.ZERO, "", false, List.of(),
        null, queryMs);
  }

  public boolean running() {
    return status == PgStatus.RUNNING;
  }

  /**
   * A standby's replay lag in bytes behind the end of WAL its upstream last reported (never below 0);
   * null when this is not a streaming standby or the upstream has not reported yet.
   */
  public Long replayLagBytes() {
    if (!running() || !inRecovery || upstreamEndLsn.isZero()) return null;
    return Math.max(0, Lsn.max(upstreamEndLsn, receiveLsn).minus(replayLsn));
  }

  /** The walsender of node {@code nodeId} (application_name pgwarden_<id>), if connected. */
  public WalSenderInfo walSender(int nodeId) {
    for (WalSenderInfo w : walSenders) {
      if (w.nodeId() != null && w.nodeId() == nodeId) return w;
    }
    return null;
  }

  /**
   * The report the keeper sends. {@code upstreamOf} maps the WAL receiver's sender host and port to a
   * node id (null when unknown); the keeper knows its peers, these facts do not.
   */
  public NodeReport toReport(NodeState state, TermSeq executed, long knownTerm, Long primaryProbeAgeMs, boolean fenced,
      RejoinInfo lastRejoin, String error, BiFunction<String, Integer, Integer> upstreamOf) {
    WalReceiverInfo wr = walReceiver;
    if (wr != null && upstreamOf != null && wr.upstreamNodeId() == null) {
      wr = new WalReceiverInfo(wr.status(), upstreamOf.apply(wr.senderHost(), wr.senderPort()), wr.senderHost(),
          wr.senderPort(), wr.receivedTimeline(), wr.lastMsgAgeMs());
    }
    return new NodeReport(state, executed, knownTerm, status, inRecovery, systemIdentifier, timeline, lsn, replayLsn,
        syncStandbyNames, walSenders, wr, primaryProbeAgeMs, fenced, lastRejoin, error);
  }
}
