package io.pgwarden.model;

import java.util.List;

/**
 * The controller's answer to a report.
 *
 * @param goal the node's assigned state and the stamp of the decision that assigned it
 * @param term the formation's current term
 * @param epoch the controller incarnation that answered (grows at every controller start)
 * @param lease a renewed write lease, only for a node whose goal is writable and whose writes are open
 * @param permitMs validity of a promotion permit (goal stop_replication), counted from the report's send
 * @param upstream the node to stream from: the primary, or the source of a fast-forward
 * @param fastForwardTo the LSN a fast_forward candidate must replay up to
 * @param syncStandbyNames the synchronous_standby_names a primary must apply
 */
public record ReportReply(
    String formation,
    Goal goal,
    long term,
    long epoch,
    Lease lease,
    long permitMs,
    PeerInfo upstream,
    Lsn fastForwardTo,
    String syncStandbyNames,
    List<PeerInfo> peers,
    NodeSettings settings,
    FormationSettings formationSettings) {

  public ReportReply {
    peers = peers == null ? List.of() : List.copyOf(peers);
  }
}
