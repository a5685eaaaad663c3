package io.pgwarden.controller.audit;

import io.pgwarden.model.FormationSettings;
import io.pgwarden.model.Lsn;
import io.pgwarden.model.NodeFacts;
import io.pgwarden.model.NodeSettings;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.TermSeq;
import java.util.List;

/**
 * What the audit of one formation's journal shows. Every instant is the controller's wall clock in epoch
 * milliseconds, as journaled; every duration is a difference of two such instants. Serialise with
 * {@code io.pgwarden.persistence.Json.MAPPER} (snake_case, nulls left out).
 *
 * @param formation the formation audited
 * @param query the window and bounds the report was made with
 * @param journal how much journal was folded
 * @param nodes every node the journal knows, in node id order
 * @param primaries the writable periods, in the order they opened
 * @param incidents failovers, switchovers, promotions, maintenance, node losses and drops, in the order they
 *     started
 * @param findings what should never happen, in time order
 * @param stateAt the formation at {@code query.at}, when asked
 * @param lanes every node's reported state over time (for the timeline page), when asked
 */
public record AuditReport(
    String formation,
    Window query,
    JournalSpan journal,
    List<NodeInfo> nodes,
    List<WritablePeriod> primaries,
    List<Incident> incidents,
    List<Finding> findings,
    FormationSnapshot stateAt,
    List<Lane> lanes) {

  public AuditReport {
    nodes = List.copyOf(nodes);
    primaries = List.copyOf(primaries);
    incidents = List.copyOf(incidents);
    findings = List.copyOf(findings);
    lanes = lanes == null ? null : List.copyOf(lanes);
  }

  /** The query as the report states it: window, instant asked, the "now" used, and the bounds. */
  public record Window(Long since, Long until, Long at, long now, long leaseBoundMs, long goalReachBoundMs,
      long stuckBoundMs) {}

  /** How many events were folded, and the first and last instants among them. */
  public record JournalSpan(long events, long formationEvents, long nodeEvents, Long firstAt, Long lastAt) {}

  public record NodeInfo(int nodeId, String name, String address, Long registeredAt, Long removedAt) {}

  /**
   * One node writable without interruption. It starts with the decision that gave the node a writable goal
   * (single, wait_primary, primary, apply_settings) and its goal ends with the decision that took it away.
   * {@code until} is when writes on it certainly stopped: the earliest of the keeper reporting it stopped
   * (basis "fenced" or "reported &lt;state&gt;") and its write lease certainly ending (basis "lease":
   * last grant, estimated from the report age journaled with the decision, plus L·(1+ρ)+δ; basis
   * "lease-upper-bound" when the grant time is unknown and the decision time is used instead).
   */
  public record WritablePeriod(
      int nodeId,
      String node,
      long term,
      TermSeq openedStamp,
      long from,
      String openedBy,
      Long goalUntil,
      String closedBy,
      Long lastGrantAt,
      Long until,
      String untilBasis) {

    public boolean open() {
      return goalUntil == null;
    }
  }

  /**
   * Something that happened to the formation, with its phases.
   *
   * @param kind automatic-failover, switchover, operator-failover, promotion, maintenance, node-drop,
   *     node-loss, or unplanned-writer-change
   * @param status complete (every phase that was due happened), writes-reopened (the old primary has not
   *     rejoined yet), in-progress, or superseded
   * @param node the node it is about: the old primary of a failover, the lost, dropped or maintained node
   * @param newPrimary the node writes reopened on, for failovers
   * @param walAtRiskBytes the largest lower bound of acknowledged WAL at risk journaled with the incident's
   *     decisions (0: none; null: none computed)
   * @param bytesDiscarded the WAL the rewinds of its nodes discarded (null: no rewind journaled)
   * @param detectionMs from the old primary's last report to the decision that the primary failed
   * @param writeOutageMs from the last instant writes were possible (last report of a failed primary, or
   *     the decision that stopped it) to the decision that reopened writes
   * @param durationMs from start to end
   * @param related ids of incidents linked to this one (a node loss and the failover it caused)
   */
  public record Incident(
      String id,
      String kind,
      String status,
      long startedAt,
      Long endedAt,
      long term,
      Integer nodeId,
      String node,
      Integer newPrimaryId,
      String newPrimary,
      Trigger trigger,
      List<Phase> phases,
      Long walAtRiskBytes,
      Long bytesDiscarded,
      String rejoinMethod,
      Long detectionMs,
      Long writeOutageMs,
      Long durationMs,
      List<String> related) {

    public Incident {
      phases = List.copyOf(phases);
      related = List.copyOf(related);
    }

    /** The first phase with this name, or null. */
    public Phase phase(String name) {
      for (Phase p : phases) {
        if (p.name().equals(name)) return p;
      }
      return null;
    }

    public List<String> phaseNames() {
      return phases.stream().map(Phase::name).toList();
    }
  }

  /**
   * Why an incident started.
   *
   * @param kind "failure" (the controller decided a node failed), "operator", or "health" (a health flip)
   * @param cause what failed, as the controller saw it (the failover context's trigger, or the health
   *     detail)
   * @param observer who saw the failure: "controller-probe" or "keeper-report" (from the node's health
   *     flip), null when none was journaled
   * @param who the operator token's name for operator actions, "controller" otherwise
   * @param rule the rule of the decision that started it
   * @param decisionReason the reason journaled with that decision
   * @param failedNode the facts of the failed node journaled with that decision
   */
  public record Trigger(
      String kind,
      String cause,
      String observer,
      String observerDetail,
      String who,
      String reason,
      String idempotencyKey,
      String rule,
      String decisionReason,
      TermSeq stamp,
      NodeFacts failedNode) {}

  /**
   * One step of an incident.
   *
   * @param name primary_last_heard, detected, requested, election_started, candidate_chosen,
   *     candidate_failed, fast_forward_done, promotion_permitted, promoted, old_primary_stopped,
   *     writes_reopened, new_primary_writable, sync_restored, maintenance_entered, maintenance_ended,
   *     rejoin_started, rewound, rejoined, removed, lost, returned
   * @param offsetMs from the incident's start (negative for what happened before the decision, such as
   *     the failed primary's last report)
   * @param sincePreviousMs from the phase before it
   */
  public record Phase(
      String name,
      long at,
      long offsetMs,
      long sincePreviousMs,
      Integer nodeId,
      String node,
      String rule,
      TermSeq stamp,
      String detail) {}

  /**
   * Something that should never happen, flagged.
   *
   * @param kind overlapping-writers, goal-not-reached, goal-pending, stuck-state, report-rejected,
   *     fenced-while-writable, writable-after-lease, rewind-outside-failover, clock-regression,
   *     sequence-gap, unknown-node, stamp-regression
   * @param severity "critical" (safety: two writers), "warning" (should not happen with healthy nodes),
   *     "info" (explained by a node being down)
   */
  public record Finding(String kind, String severity, long at, Long until, List<Integer> nodeIds, String message,
      String incidentId) {
    public Finding {
      nodeIds = List.copyOf(nodeIds);
    }
  }

  /** The formation at one instant: what the journal says up to and including it. */
  public record FormationSnapshot(
      long at,
      boolean exists,
      long term,
      long seq,
      Integer primaryNodeId,
      String primary,
      List<Integer> leaseMayRun,
      FormationSettings settings,
      String failoverInProgress,
      List<NodeSnapshot> nodes) {

    public FormationSnapshot {
      leaseMayRun = List.copyOf(leaseMayRun);
      nodes = List.copyOf(nodes);
    }

    public NodeSnapshot node(int id) {
      for (NodeSnapshot n : nodes) {
        if (n.nodeId() == id) return n;
      }
      return null;
    }
  }

  /**
   * One node at one instant.
   *
   * @param reported the last state it reported (null: never)
   * @param goal the state assigned to it
   * @param healthy the controller's last health verdict (null: no flip journaled yet)
   */
  public record NodeSnapshot(
      int nodeId,
      String name,
      NodeState reported,
      TermSeq reportedStamp,
      Long reportedAt,
      Integer timeline,
      Lsn lsn,
      NodeState goal,
      TermSeq goalStamp,
      Long goalAt,
      Boolean healthy,
      String healthDetail,
      NodeSettings settings) {}

  /** One node's reported state over time. */
  public record Lane(int nodeId, String name, List<Segment> segments) {
    public Lane {
      segments = List.copyOf(segments);
    }
  }

  /**
   * A stretch of time in one state. {@code role}: writable, standby, transitioning, down (unhealthy, in
   * maintenance or dropped). {@code until} null: still so at the end of the journal.
   */
  public record Segment(long from, Long until, NodeState state, boolean healthy, String role) {}
}
