package io.pgwarden.controller.core;

import io.pgwarden.api.Dto;
import io.pgwarden.model.Timing;

/** Where an operator action stands: it has succeeded once the formation settled after it. */
public final class OperationStatus {
  private OperationStatus() {}

  public static Dto.Operation view(Formation f, Observations obs, Timing t, Now now, Formation.OperationRecord rec) {
    return new Dto.Operation(rec.id(), f.name(), kind(rec.kind()), null, status(f, obs, t, now), "", rec.by(),
        rec.at(), now.wall(), rec.stamp());
  }

  /**
   * The kind an operation is shown with, from the kind it was journaled with: an operator action's
   * decision rule names the action ("operator-switchover" is a switchover); settings changes show as
   * journaled ("set-node-settings", "set-formation-settings").
   */
  public static String kind(String recorded) {
    if (recorded.equals("operator-maintenance-primary")) return "maintenance-on";
    return recorded.startsWith("operator-") ? recorded.substring("operator-".length()) : recorded;
  }

  /** Succeeded when no failover is in progress and every node that reports has reached its goal. */
  public static String status(Formation f, Observations obs, Timing t, Now now) {
    if (f.failover() != null) return "running";
    FailureDetector d = new FailureDetector(f, obs, t, now.mono());
    for (Member m : f.active()) {
      if (d.freshReport(m.nodeId()) != null && d.reported(m.nodeId()) != m.goalState()) return "running";
    }
    return "succeeded";
  }
}
