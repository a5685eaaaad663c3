package io.pgwarden.controller.core;

import io.pgwarden.model.Goal;
import io.pgwarden.model.NodeAddress;
import io.pgwarden.model.NodeSettings;
import io.pgwarden.model.NodeState;

/** A registered node as the journal knows it: identity, settings, and its current goal. */
public record Member(int nodeId, String name, NodeAddress address, String keeperApi, NodeSettings settings,
    String credentialHash, Goal goal) {

  public NodeState goalState() {
    return goal.state();
  }

  public Member withGoal(Goal g) {
    return new Member(nodeId, name, address, keeperApi, settings, credentialHash, g);
  }

  public Member withSettings(NodeSettings s) {
    return new Member(nodeId, name, address, keeperApi, s, credentialHash, goal);
  }

  public String applicationName() {
    return "pgwarden_" + nodeId;
  }
}
