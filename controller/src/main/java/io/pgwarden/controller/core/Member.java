package io.pgwarden.controller.core;

import io.pgwarden.model.Goal;
import io.pgwarden.model.NodeAddress;
import io.pgwarden.model.NodeSettings;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.TermSeq;

/**
 * A registered node as the journal knows it: identity, settings, its current goal, and the stamp of the
 * last goal that had it follow another node (catchingup, secondary, fast_forward; NONE if never): a node
 * told to follow may be streaming, and moving, whatever it last reported.
 */
public record Member(int nodeId, String name, NodeAddress address, String keeperApi, NodeSettings settings,
    String credentialHash, Goal goal, TermSeq lastFollowingGoal) {

  private static final java.util.Set<NodeState> FOLLOWING = java.util.EnumSet.of(NodeState.CATCHINGUP,
      NodeState.SECONDARY, NodeState.FAST_FORWARD);

  public Member(int nodeId, String name, NodeAddress address, String keeperApi, NodeSettings settings,
      String credentialHash, Goal goal) {
    this(nodeId, name, address, keeperApi, settings, credentialHash, goal, TermSeq.NONE);
  }

  public NodeState goalState() {
    return goal.state();
  }

  public Member withGoal(Goal g) {
    return new Member(nodeId, name, address, keeperApi, settings, credentialHash, g,
        FOLLOWING.contains(g.state()) ? g.stamp() : lastFollowingGoal);
  }

  public Member withSettings(NodeSettings s) {
    return new Member(nodeId, name, address, keeperApi, s, credentialHash, goal, lastFollowingGoal);
  }

  public String applicationName() {
    return "pgwarden_" + nodeId;
  }
}
