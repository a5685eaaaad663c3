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
      TermSeq stamp, List<Goal> goals, String rule, String reason, DecisionInputs inputs, Requester by, long at)
      implements FormationEvent {
    public Decided {
      goals = List.copyOf(goals);
    }
  }

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
