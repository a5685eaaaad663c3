package io.pgwarden.model;

import java.util.List;

/** Events of a formation's supervisor: membership, settings, terms and the decisions themselves. */
public sealed interface FormationEvent extends JournalEvent {

  record FormationCreated(String formation, FormationSettings settings, Requester by, long at)
      implements FormationEvent {}

  record FormationSettingsChanged(FormationSettings settings, Requester by, long at) implements FormationEvent {}

  record FormationDropped(Requester by, long at) implements FormationEvent {}

  /**
   * A node joined. {@code credentialHash} is the SHA-256 of the node's own API credential; the
   * credential itself is never stored.
   */
  record NodeRegistered(
      int nodeId, String name, NodeAddress address, String keeperApi, NodeSettings settings,
      String credentialHash, long at) implements FormationEvent {}

  record NodeSettingsChanged(int nodeId, NodeSettings settings, Requester by, long at) implements FormationEvent {}

  record NodeRemoved(int nodeId, String reason, Requester by, long at) implements FormationEvent {}

  /**
   * One decision: every goal it changed, all stamped with {@code stamp}, the rule that fired, and the
   * facts it used. {@code by} is the operator for operator actions, else the controller.
   */
  record Decided(
      TermSeq stamp, List<Goal> goals, String rule, String reason, DecisionInputs inputs, Requester by, long at,
      FailoverContext failover)
      implements FormationEvent {
    public Decided {
      goals = List.copyOf(goals);
    }

    public Decided(TermSeq stamp, List<Goal> goals, String rule, String reason, DecisionInputs inputs, Requester by,
        long at) {
      this(stamp, goals, rule, reason, inputs, by, at, null);
    }
  }

  /**
   * Set by the decision that starts a failover (automatic, switchover, promotion or maintenance of the
   * primary): which node was primary, which node the operator wants promoted (if any), and why. It lasts
   * until a decision opens writes on a node again.
   */
  record FailoverContext(String kind, int from, Integer preferred, String trigger) {}

  /** The term was raised without a decision: at controller start, or above a term a keeper reported. */
  record TermRaised(long term, String reason, long at) implements FormationEvent {}

  /**
   * The primary was seen applying this synchronous quorum: commits wait for {@code required} of
   * {@code members} (node ids). Elections rely on it to know where acknowledged writes can be.
   */
  record QuorumConfirmed(int primaryId, int required, List<Integer> members, long at) implements FormationEvent {
    public QuorumConfirmed {
      members = List.copyOf(members);
    }
  }

  record SystemIdentifierSet(long systemIdentifier, int byNodeId, long at) implements FormationEvent {}
}
