package io.pgwarden.model;

import java.util.List;

/**
 * The facts a decision was based on, journaled with it so that every failover can be explained later.
 *
 * @param trigger what made the controller evaluate: "report", "tick", "probe", "operator", "register"
 * @param nodes every node's facts at decision time
 * @param walAtRiskBytes a lower bound of acknowledged WAL a failover may lose (0 when none, null when
 *     the decision is not a failover)
 * @param uptimeMs time since this controller incarnation started
 */
public record DecisionInputs(String trigger, List<NodeFacts> nodes, Long walAtRiskBytes, long uptimeMs) {
  public DecisionInputs {
    nodes = nodes == null ? List.of() : List.copyOf(nodes);
  }

  public static DecisionInputs none(String trigger) {
    return new DecisionInputs(trigger, List.of(), null, 0);
  }
}
