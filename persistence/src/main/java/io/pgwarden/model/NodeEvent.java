package io.pgwarden.model;

/** Events of one node's own lifecycle, journaled by its NodeActor only when something changed. */
public sealed interface NodeEvent extends JournalEvent {

  record Registered(String formation, int nodeId, String name, NodeAddress address, NodeSettings settings, long at)
      implements NodeEvent {}

  /** The node reported a state it had not reported before (its timeline and LSN at that moment). */
  record StateReached(NodeState state, TermSeq stamp, int timeline, Lsn lsn, long at) implements NodeEvent {}

  /** The controller's view of the node's health flipped; {@code observer} says who saw it. */
  record HealthChanged(boolean healthy, String observer, String detail, long at) implements NodeEvent {}

  record SettingsChanged(NodeSettings settings, Requester by, long at) implements NodeEvent {}

  record Rewound(RejoinInfo rejoin, long at) implements NodeEvent {}

  /** A report the controller refused: LSN backwards, timeline regressed, foreign system identifier. */
  record ReportRejected(String kind, String detail, long at) implements NodeEvent {}

  /** The keeper stopped its PostgreSQL because its write lease ran out. */
  record Fenced(long term, long at) implements NodeEvent {}

  record Dropped(Requester by, long at) implements NodeEvent {}
}
