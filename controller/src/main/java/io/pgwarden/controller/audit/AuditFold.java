package io.pgwarden.controller.audit;

import static io.pgwarden.model.NodeState.CATCHINGUP;
import static io.pgwarden.model.NodeState.DROPPED;
import static io.pgwarden.model.NodeState.FAST_FORWARD;
import static io.pgwarden.model.NodeState.JOIN_SECONDARY;
import static io.pgwarden.model.NodeState.MAINTENANCE;
import static io.pgwarden.model.NodeState.PREPARE_PROMOTION;
import static io.pgwarden.model.NodeState.PRIMARY;
import static io.pgwarden.model.NodeState.REPORT_LSN;
import static io.pgwarden.model.NodeState.SECONDARY;
import static io.pgwarden.model.NodeState.STOP_REPLICATION;
import static io.pgwarden.model.NodeState.WAIT_MAINTENANCE;
import static io.pgwarden.model.NodeState.WAIT_STANDBY;

import io.pgwarden.controller.audit.AuditReport.Finding;
import io.pgwarden.controller.audit.AuditReport.FormationSnapshot;
import io.pgwarden.controller.audit.AuditReport.Incident;
import io.pgwarden.controller.audit.AuditReport.Lane;
import io.pgwarden.controller.audit.AuditReport.NodeInfo;
import io.pgwarden.controller.audit.AuditReport.NodeSnapshot;
import io.pgwarden.controller.audit.AuditReport.Phase;
import io.pgwarden.controller.audit.AuditReport.Segment;
import io.pgwarden.controller.audit.AuditReport.Trigger;
import io.pgwarden.controller.audit.AuditReport.WritablePeriod;
import io.pgwarden.controller.core.Formation;
import io.pgwarden.controller.core.Member;
import io.pgwarden.model.FormationEvent;
import io.pgwarden.model.FormationEvent.Decided;
import io.pgwarden.model.FormationEvent.FailoverContext;
import io.pgwarden.model.Goal;
import io.pgwarden.model.JournalEvent;
import io.pgwarden.model.Lsn;
import io.pgwarden.model.NodeEvent;
import io.pgwarden.model.NodeFacts;
import io.pgwarden.model.NodeSettings;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.Requester;
import io.pgwarden.model.TermSeq;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The audit as a fold: feed it one formation's events in merged time order ({@link AuditReplay#merge}),
 * then ask for the {@link #report()}. The formation's own state is folded by the controller's
 * {@link Formation#apply}, the same fold the supervisor recovers with; on top of it this class keeps
 * what the audit needs: writable periods, incidents and their phases, goals and whether they were
 * reached, every node's reported states. Deterministic: no clock, no hash-order iteration.
 */
public final class AuditFold {
  /** States a node passes through on its way somewhere; staying in one too long is flagged. */
  static final Set<NodeState> INTERMEDIATE = EnumSet.of(NodeState.INIT, WAIT_STANDBY, CATCHINGUP,
      NodeState.DRAINING, NodeState.DEMOTE_TIMEOUT, NodeState.DEMOTED, PREPARE_PROMOTION, STOP_REPLICATION,
      REPORT_LSN, FAST_FORWARD, JOIN_SECONDARY, WAIT_MAINTENANCE, NodeState.PREPARE_MAINTENANCE,
      NodeState.APPLY_SETTINGS);

  /** The order of phases that happen at the same instant. */
  static final List<String> PHASE_ORDER = List.of("primary_last_heard", "lost", "detected", "requested",
      "election_started", "candidate_chosen", "candidate_failed", "fast_forward_done", "promotion_permitted",
      "promoted", "old_primary_stopped", "node_down", "writes_reopened", "new_primary_writable", "sync_restored",
      "maintenance_entered", "maintenance_ended", "rejoin_started", "node_up", "rewound", "rejoined", "goal_changed", "removed", "returned");

  private final String name;
  private final AuditQuery q;
  private final long leaseBound;
  private Formation formation;
  private long events;
  private long formationEvents;
  private long nodeEvents;
  private long skipped;
  private Long firstAt;
  private Long lastAt;
  private final Map<String, long[]> lastByPid = new HashMap<>(); // looked up only, never iterated
  private final TreeMap<Integer, NodeTrack> nodes = new TreeMap<>();
  private final List<PeriodB> periods = new ArrayList<>();
  private final List<IncidentB> incidents = new ArrayList<>();
  private final List<Finding> findings = new ArrayList<>();
  private IncidentB failover; // started, writes not reopened yet
  private Integer lastWriter;
  private FormationSnapshot snapshot;
  private boolean snapshotTaken;
  private AuditReport report;

  public AuditFold(String formation, AuditQuery query) {
    this.name = formation;
    this.q = query == null ? AuditQuery.all() : query;
    this.leaseBound = q.timing().leaseCertainlyExpiredAfterMs();
    this.formation = Formation.empty(formation);
  }

  public String formation() {
    return name;
  }

  // ================================================================== feeding

  /** Folds one event; events must come in merged order (see {@link AuditReplay#merge}). */
  public void accept(RecordedEvent r) {
    if (report != null) throw new IllegalStateException("the report was already made");
    if (!RecordedEvent.belongsTo(r.persistenceId(), name)) {
      skipped++;
      return;
    }
    JournalEvent e = r.event();
    long at = e.at();
    if (q.at() != null && !snapshotTaken && at > q.at()) takeSnapshot();
    long[] last = lastByPid.get(r.persistenceId());
    if (last == null) {
      lastByPid.put(r.persistenceId(), new long[] {r.sequenceNr(), at});
    } else {
      if (r.sequenceNr() != last[0] + 1) {
        finding("sequence-gap", "warning", at, null, nodesOf(r), r.persistenceId() + " jumps from sequence number "
            + last[0] + " to " + r.sequenceNr() + ": events are missing from the journal read", null);
      }
      if (at < last[1]) {
        finding("clock-regression", "warning", at, null, nodesOf(r), r.persistenceId() + " #" + r.sequenceNr()
            + " is stamped " + (last[1] - at) + " ms before the event it follows: the controller's wall clock"
            + " went backwards; durations around it are not reliable", null);
      }
      last[0] = r.sequenceNr();
      last[1] = Math.max(last[1], at);
    }
    events++;
    if (firstAt == null || at < firstAt) firstAt = at;
    if (lastAt == null || at > lastAt) lastAt = at;
    if (e instanceof FormationEvent fe) {
      formationEvents++;
      formationEvent(fe);
    } else if (e instanceof NodeEvent ne) {
      nodeEvents++;
      Integer id = r.nodeId();
      if (id == null) {
        finding("unknown-node", "warning", at, null, List.of(), "node event in " + r.persistenceId()
            + " whose persistence id names no node", null);
      } else {
        nodeEvent(id, ne);
      }
    }
  }

  private static List<Integer> nodesOf(RecordedEvent r) {
    Integer id = r.nodeId();
    return id == null ? List.of() : List.of(id);
  }

  // ================================================================== formation events

  private void formationEvent(FormationEvent e) {
    if (e instanceof FormationEvent.NodeRegistered r) {
      NodeTrack n = nodes.computeIfAbsent(r.nodeId(), NodeTrack::new);
      n.name = r.name();
      n.address = r.address() == null ? null : r.address().toString();
      n.registeredAt = r.at();
      n.removedAt = null;
      n.settings = r.settings();
      n.segment(r.at(), NodeState.INIT, true);
    } else if (e instanceof FormationEvent.NodeSettingsChanged c) {
      NodeTrack n = nodes.get(c.nodeId());
      if (n != null) n.settings = c.settings();
    } else if (e instanceof FormationEvent.NodeRemoved r) {
      removed(r);
    } else if (e instanceof Decided d) {
      decided(d);
    }
    formation = formation.apply(e);
  }

  private void decided(Decided d) {
    if (!d.stamp().isNewerThan(formation.stamp())) {
      finding("stamp-regression", "warning", d.at(), null, d.goals().stream().map(Goal::nodeId).toList(),
          "decision " + d.rule() + " is stamped " + d.stamp() + ", not newer than " + formation.stamp()
              + ": keepers ignore goals that are not newer than the last they executed", null);
    }
    IncidentB started = null;
    FailoverContext ctx = d.failover();
    if (ctx != null) {
      started = startFailover(d, ctx);
    } else if (d.rule().equals("operator-maintenance-on")) {
      started = startStandbyMaintenance(d);
    } else if (d.rule().equals("operator-drop-node")) {
      started = startDrop(d);
    }
    if (failover != null && started != failover) failoverStep(d);
    for (Goal g : d.goals()) {
      NodeTrack n = nodes.get(g.nodeId());
      if (n == null) {
        finding("unknown-node", "warning", d.at(), null, List.of(g.nodeId()), "decision " + d.stamp() + " ("
            + d.rule() + ") assigns " + g.state() + " to node " + g.nodeId() + ", which the journal never registered",
            null);
        continue;
      }
      NodeState old = n.goal == null ? null : n.goal.state();
      goalChange(n, g, d);
      boolean was = old != null && old.canTakeWrites();
      boolean is = g.state().canTakeWrites();
      if (!was && is) {
        openPeriod(n, d);
      } else if (was && !is) {
        closePeriod(n, d.at(), d.rule(), d.stamp(), facts(d, n.id), d.inputs() == null ? 0 : d.inputs().uptimeMs());
      }
      if (n.rejoin != null && n.rejoin != started) rejoinStep(n, g, d);
      if (g.state() == PRIMARY && n.syncWatch != null) {
        n.syncWatch.phase("sync_restored", d.at(), n, d.rule(), d.stamp(), d.reason());
        n.syncWatch = null;
      }
    }
  }

  private static NodeFacts facts(Decided d, int nodeId) {
    if (d.inputs() == null) return null;
    for (NodeFacts f : d.inputs().nodes()) {
      if (f.nodeId() == nodeId) return f;
    }
    return null;
  }

  private void goalChange(NodeTrack n, Goal g, Decided d) {
    flushUnreached(n, d.at());
    if (n.goal != null && !n.goalReached && n.goal.state() != g.state()) {
      // judged once nothing else happens at this instant: the report that reached it may be merged after
      n.unreached.add(new Unreached(n.goal, n.goalAt, n.goalRule, n.downDuringGoal, d.at(), "superseded by "
          + g.state() + " (" + d.stamp() + ", " + d.rule() + ") at " + AuditText.instant(d.at())));
    }
    if (n.goal == null || n.goal.state() != g.state()) {
      n.goalAt = d.at();
      n.goalRule = d.rule();
      n.goalReason = d.reason();
      // a goal the node already reports is reached as soon as it executes it, which changes nothing visible
      n.goalReached = n.reported == g.state();
      n.downDuringGoal = Boolean.FALSE.equals(n.healthy);
    }
    n.goal = g;
    if (n.loss != null) {
      n.loss.phase("goal_changed", d.at(), n, d.rule(), d.stamp(), "goal " + g.state() + ": " + d.reason());
    }
  }

  private void unreached(NodeTrack n, long at, String how) {
    unreached(n, new Unreached(n.goal, n.goalAt, n.goalRule, n.downDuringGoal || n.removedAt != null, at, how));
  }

  private void unreached(NodeTrack n, Unreached u) {
    finding("goal-not-reached", u.down() ? "info" : "warning", u.goalAt(), u.supersededAt(), List.of(n.id), "node "
        + n.label() + " was assigned " + u.goal().state() + " (" + u.goal().stamp() + ", " + u.rule() + ") at "
        + AuditText.instant(u.goalAt()) + " and never reported it; " + u.how() + (u.down() ? " (the node was down)"
        : ""), null);
  }

  /** Goals superseded before {@code at} that no report at their instant reached are flagged now. */
  private void flushUnreached(NodeTrack n, long at) {
    if (n.unreached.isEmpty()) return;
    for (java.util.Iterator<Unreached> it = n.unreached.iterator(); it.hasNext(); ) {
      Unreached u = it.next();
      if (u.supersededAt() < at) {
        unreached(n, u);
        it.remove();
      }
    }
  }

  /** A goal superseded before it was reported reached. */
  private record Unreached(Goal goal, long goalAt, String rule, boolean down, long supersededAt, String how) {}

  // ================================================================== writable periods

  private void openPeriod(NodeTrack n, Decided d) {
    PeriodB p = new PeriodB(n, d.stamp().term(), d.stamp(), d.at(), d.rule());
    periods.add(p);
    n.period = p;
    if (failover != null) {
      writesReopened(failover, n, d);
    } else if (lastWriter != null && lastWriter != n.id && nodes.containsKey(lastWriter)
        && nodes.get(lastWriter).removedAt == null) {
      IncidentB inc = newIncident("unplanned-writer-change", d.at(), d.stamp().term(), lastWriter);
      inc.trigger = new Trigger("controller", "writes moved from " + nodes.get(lastWriter).label() + " to "
          + n.label() + " without a failover", null, null, who(d.by()), reason(d.by()), key(d.by()), d.rule(),
          d.reason(), d.stamp(), null);
      inc.phase("writes_reopened", d.at(), n, d.rule(), d.stamp(), d.reason());
      inc.newPrimary = n.id;
      inc.end(d.at(), "complete");
      finding("unplanned-writer-change", "warning", d.at(), null, List.of(lastWriter, n.id), "decision "
          + d.stamp() + " (" + d.rule() + ") made " + n.label() + " writable while " + nodes.get(lastWriter).label()
          + " was the last writer, outside any failover", inc.id);
    }
    lastWriter = n.id;
  }

  /**
   * The writable goal of {@code n} ends at {@code at}. Its keeper may write until its lease runs out: the last
   * grant is the last report answered before this decision, {@code reportAgeMs} before it; a keeper not heard
   * in this controller incarnation holds at most a lease from before the incarnation started.
   */
  private void closePeriod(NodeTrack n, long at, String rule, TermSeq stamp, NodeFacts f, long uptimeMs) {
    PeriodB p = n.period;
    if (p == null || p.goalUntil != null) return;
    p.goalUntil = at;
    p.closedBy = rule;
    p.closedStamp = stamp;
    if (f != null && f.reportAgeMs() != null) {
      p.lastGrantAt = at - Math.max(0, f.reportAgeMs());
      p.basis = "lease";
    } else if (f != null && uptimeMs > 0) {
      p.lastGrantAt = at - uptimeMs;
      p.basis = "lease";
    } else {
      p.lastGrantAt = at;
      p.basis = "lease-upper-bound";
    }
    p.until = p.lastGrantAt + leaseBound;
    // a keeper that already reported itself stopped under this goal stays stopped
  }

  /** The keeper reported it stopped writing at {@code at}: {@code how} is a reported state, or null if fenced. */
  private void stoppedEvidence(NodeTrack n, long at, NodeState how) {
    PeriodB p = n.period;
    if (p == null || p.goalUntil == null || p.until == null) return;
    if (at < p.until) {
      p.until = Math.max(at, p.goalUntil);
      p.basis = how == null ? "fenced" : "reported " + how;
    }
  }

  // ================================================================== incidents

  private IncidentB newIncident(String kind, long at, long term, Integer nodeId) {
    IncidentB inc = new IncidentB("i" + (incidents.size() + 1), kind, at, term, nodeId);
    incidents.add(inc);
    return inc;
  }

  private static String kindOf(FailoverContext ctx) {
    String k = ctx.kind() == null ? "" : ctx.kind();
    if (k.equals("automatic")) return "automatic-failover";
    if (k.equals("failover")) return "operator-failover";
    if (k.equals("drop")) return "node-drop";
    return k.isEmpty() ? "failover" : k;
  }

  private static boolean byOperator(Requester by) {
    return by != null && by.who() != null && !by.who().isEmpty() && !by.who().equals(Requester.CONTROLLER.who());
  }

  private static String who(Requester by) {
    return by == null ? "controller" : by.who();
  }

  private static String reason(Requester by) {
    return by == null || by.reason() == null || by.reason().isEmpty() ? null : by.reason();
  }

  private static String key(Requester by) {
    return by == null || by.idempotencyKey() == null || by.idempotencyKey().isEmpty() ? null : by.idempotencyKey();
  }

  private IncidentB startFailover(Decided d, FailoverContext ctx) {
    if (failover != null) {
      failover.end(d.at(), "superseded");
      finding("failover-restarted", "warning", d.at(), null, List.of(ctx.from()), "decision " + d.stamp() + " ("
          + d.rule() + ") started a new failover while " + failover.id + " had not reopened writes", failover.id);
    }
    NodeTrack from = nodes.get(ctx.from());
    IncidentB inc = newIncident(kindOf(ctx), d.at(), d.stamp().term(), ctx.from());
    NodeFacts facts = facts(d, ctx.from());
    boolean operator = byOperator(d.by());
    inc.trigger = new Trigger(operator ? "operator" : "failure", ctx.trigger(), null, null, who(d.by()),
        reason(d.by()), key(d.by()), d.rule(), d.reason(), d.stamp(), operator ? null : facts);
    if (!operator && facts != null && facts.reportAgeMs() != null) {
      inc.lastWritableAt = d.at() - Math.max(0, facts.reportAgeMs());
      inc.phase("primary_last_heard", inc.lastWritableAt, from, null, null, "last report of the primary seen by the"
          + " controller (" + facts.reportAgeMs() + " ms before the decision)");
      inc.detectionMs = facts.reportAgeMs();
    } else {
      inc.lastWritableAt = d.at();
    }
    inc.phase(operator ? "requested" : "detected", d.at(), from, d.rule(), d.stamp(), d.reason());
    inc.preferred = ctx.preferred();
    inc.walAtRisk(d);
    if (from != null) {
      if (!operator && Boolean.FALSE.equals(from.healthy)) inc.observedBy(from);
      if (from.loss != null) link(inc, from.loss);
      if (from.rejoin != null && from.rejoin.endedAt == null) from.rejoin.end(d.at(), "superseded");
      from.rejoin = inc;
      inc.stopPeriod = from.period != null && from.period.goalUntil == null ? from.period : null;
    }
    int reportLsn = 0;
    for (Goal g : d.goals()) {
      if (g.state() == REPORT_LSN) reportLsn++;
    }
    if (reportLsn > 0) {
      inc.phase("election_started", d.at(), null, d.rule(), d.stamp(), reportLsn + " node(s) asked for their LSN");
    }
    for (Goal g : d.goals()) {
      if (g.state() == PREPARE_PROMOTION || g.state() == FAST_FORWARD) {
        inc.candidate = g.nodeId();
        inc.phase("candidate_chosen", d.at(), nodes.get(g.nodeId()), d.rule(), d.stamp(),
            "the only standby: " + d.reason());
        if (nodes.get(g.nodeId()) != null) nodes.get(g.nodeId()).candidateIn = inc;
      }
    }
    failover = inc;
    return inc;
  }

  /** A decision while a failover has not reopened writes yet: election, candidate, permit. */
  private void failoverStep(Decided d) {
    IncidentB inc = failover;
    if (d.rule().startsWith("E0")) {
      for (Goal g : d.goals()) {
        NodeTrack c = nodes.get(g.nodeId());
        inc.phase("candidate_failed", d.at(), c, d.rule(), d.stamp(), d.reason());
        if (c != null) c.candidateIn = null;
      }
      inc.candidate = null;
    }
    for (Goal g : d.goals()) {
      NodeTrack n = nodes.get(g.nodeId());
      if (g.state() == REPORT_LSN && inc.phase("election_started") == null) {
        inc.phase("election_started", d.at(), null, d.rule(), d.stamp(), d.reason());
      } else if (g.state() == FAST_FORWARD || g.state() == PREPARE_PROMOTION && inc.candidate == null
          || g.state() == PREPARE_PROMOTION && inc.candidate != g.nodeId()) {
        inc.candidate = g.nodeId();
        inc.phase("candidate_chosen", d.at(), n, d.rule(), d.stamp(), d.reason());
        inc.walAtRisk(d);
        if (n != null) n.candidateIn = inc;
      } else if (g.state() == PREPARE_PROMOTION) {
        inc.phase("fast_forward_done", d.at(), n, d.rule(), d.stamp(), d.reason());
      } else if (g.state() == STOP_REPLICATION) {
        inc.phase("promotion_permitted", d.at(), n, d.rule(), d.stamp(), d.reason());
      }
    }
  }

  private void writesReopened(IncidentB inc, NodeTrack n, Decided d) {
    inc.phase("writes_reopened", d.at(), n, d.rule(), d.stamp(), d.reason());
    inc.newPrimary = n.id;
    inc.writesReopenedAt = d.at();
    inc.writeOutageMs = d.at() - inc.lastWritableAt;
    n.promotedIn = inc;
    n.syncWatch = inc;
    failover = null;
    inc.maybeEnd();
  }

  private IncidentB startStandbyMaintenance(Decided d) {
    for (Goal g : d.goals()) {
      if (g.state() == MAINTENANCE || g.state() == WAIT_MAINTENANCE) {
        NodeTrack n = nodes.get(g.nodeId());
        IncidentB inc = newIncident("maintenance", d.at(), d.stamp().term(), g.nodeId());
        inc.trigger = new Trigger("operator", "maintenance of " + (n == null ? g.nodeId() : n.label()), null, null,
            who(d.by()), reason(d.by()), key(d.by()), d.rule(), d.reason(), d.stamp(), null);
        inc.phase("requested", d.at(), n, d.rule(), d.stamp(), d.reason());
        inc.maintenance = true;
        inc.writesReopenedAt = d.at(); // writes never stopped
        inc.standbyOnly = true;
        if (n != null) {
          if (n.reported == MAINTENANCE) inc.phase("maintenance_entered", d.at(), n, null, null, "already reported");
          n.rejoin = inc;
        }
        return inc;
      }
    }
    return null;
  }

  private IncidentB startDrop(Decided d) {
    for (Goal g : d.goals()) {
      if (g.state() == DROPPED) {
        NodeTrack n = nodes.get(g.nodeId());
        IncidentB inc = newIncident("node-drop", d.at(), d.stamp().term(), g.nodeId());
        inc.trigger = new Trigger("operator", "drop of " + (n == null ? g.nodeId() : n.label()), null, null,
            who(d.by()), reason(d.by()), key(d.by()), d.rule(), d.reason(), d.stamp(), null);
        inc.phase("requested", d.at(), n, d.rule(), d.stamp(), d.reason());
        inc.writesReopenedAt = d.at();
        inc.standbyOnly = true;
        if (n != null) n.drop = inc;
        return inc;
      }
    }
    return null;
  }

  /** Goals given to the node an incident is about (the old primary, the node in maintenance). */
  private void rejoinStep(NodeTrack n, Goal g, Decided d) {
    IncidentB inc = n.rejoin;
    if (inc.endedAt != null) {
      n.rejoin = null;
      return;
    }
    NodeState s = g.state();
    if (d.rule().equals("operator-maintenance-off")) {
      inc.phase("maintenance_ended", d.at(), n, d.rule(), d.stamp(), d.reason());
      inc.maintenanceEnded = true;
      if (s == SECONDARY) rejoined(n, inc, d);
    } else if (s == CATCHINGUP || s == REPORT_LSN || s == JOIN_SECONDARY || s == WAIT_STANDBY) {
      if (inc.phase("rejoin_started") == null && (!inc.maintenance || inc.maintenanceEnded)) {
        inc.phase("rejoin_started", d.at(), n, d.rule(), d.stamp(), d.reason());
      }
    } else if (s == SECONDARY) {
      rejoined(n, inc, d);
    } else if (s.canTakeWrites() && inc.writesReopenedAt != null && inc.newPrimary != null && inc.newPrimary != n.id) {
      inc.phase("rejoined", d.at(), n, d.rule(), d.stamp(), "became writable again: " + d.reason());
      inc.rejoined = true;
      n.rejoin = null;
      inc.maybeEnd();
    }
  }

  private void rejoined(NodeTrack n, IncidentB inc, Decided d) {
    inc.phase("rejoined", d.at(), n, d.rule(), d.stamp(), d.reason());
    inc.rejoined = true;
    n.rejoin = null;
    inc.maybeEnd();
  }

  private void link(IncidentB a, IncidentB b) {
    if (!a.related.contains(b.id)) a.related.add(b.id);
    if (!b.related.contains(a.id)) b.related.add(a.id);
  }

  private void removed(FormationEvent.NodeRemoved r) {
    NodeTrack n = nodes.get(r.nodeId());
    if (n == null) return;
    long at = r.at();
    if (n.goal != null && !n.goalReached && n.goal.state() != DROPPED) unreached(n, at, "the node was removed");
    n.goal = null;
    boolean wasWriter = n.period != null && n.period.goalUntil == null;
    if (wasWriter) closePeriod(n, at, "node-removed", null, null, 0);
    n.removedAt = at;
    n.endSegments(at);
    if (wasWriter && failover == null) {
      // a writer removed by force: writes move to another node once its lease ends
      IncidentB inc = newIncident("node-drop", at, formation.term(), n.id);
      inc.trigger = new Trigger(byOperator(r.by()) ? "operator" : "controller", r.reason(), null, null, who(r.by()),
          reason(r.by()), key(r.by()), "node-removed", r.reason(), null, null);
      inc.phase("requested", at, n, "node-removed", null, r.reason());
      inc.lastWritableAt = at;
      inc.stopPeriod = n.period;
      failover = inc;
      n.drop = inc;
    } else if (n.drop == null && byOperator(r.by())) {
      IncidentB inc = newIncident("node-drop", at, formation.term(), n.id);
      inc.trigger = new Trigger("operator", r.reason(), null, null, who(r.by()), reason(r.by()), key(r.by()),
          "node-removed", r.reason(), null, null);
      inc.standbyOnly = true;
      inc.writesReopenedAt = at;
      n.drop = inc;
    }
    if (n.drop != null) {
      n.drop.phase("removed", at, n, "node-removed", null, r.reason());
      n.drop.removed = true;
      n.drop.maybeEnd();
    }
    if (n.rejoin != null && n.rejoin != n.drop && n.rejoin.endedAt == null) {
      n.rejoin.phase("removed", at, n, "node-removed", null, r.reason());
      n.rejoin.removed = true;
      n.rejoin.maybeEnd();
    }
    if (n.loss != null) {
      n.loss.phase("removed", at, n, "node-removed", null, r.reason());
      n.loss.end(at, "complete");
      n.loss = null;
    }
    n.rejoin = null;
  }

  // ================================================================== node events

  private void nodeEvent(int id, NodeEvent e) {
    NodeTrack n = nodes.get(id);
    if (n == null) {
      if (e instanceof NodeEvent.Registered) return; // the formation's NodeRegistered follows at the same instant
      n = nodes.computeIfAbsent(id, NodeTrack::new);
      finding("unknown-node", "warning", e.at(), null, List.of(id), "node " + id + " journaled "
          + io.pgwarden.persistence.JournalSerializer.typeName(e.getClass()) + " before the formation registered it", null);
    }
    if (e instanceof NodeEvent.StateReached s) {
      stateReached(n, s);
    } else if (e instanceof NodeEvent.HealthChanged h) {
      healthChanged(n, h);
    } else if (e instanceof NodeEvent.Rewound w) {
      rewound(n, w);
    } else if (e instanceof NodeEvent.ReportRejected rr) {
      finding("report-rejected", "warning", rr.at(), null, List.of(id), "the controller refused a report of "
          + n.label() + ": " + rr.kind() + (rr.detail() == null || rr.detail().isEmpty() ? "" : " (" + rr.detail()
          + ")"), null);
    } else if (e instanceof NodeEvent.Fenced f) {
      fenced(n, f);
    }
  }

  private void stateReached(NodeTrack n, NodeEvent.StateReached s) {
    long at = s.at();
    if (!n.unreached.isEmpty()) {
      n.unreached.removeIf(u -> u.supersededAt() == at && u.goal().state() == s.state() && s.stamp() != null
          && s.stamp().compareTo(u.goal().stamp()) >= 0);
      flushUnreached(n, at);
    }
    NodeState prev = n.reported;
    if (prev != s.state()) {
      if (prev != null && INTERMEDIATE.contains(prev) && n.stateSince != null && at - n.stateSince > q.stuckBoundMs()) {
        stuck(n, at, "until it reported " + s.state());
      }
      n.stateSince = at;
      n.downDuringState = Boolean.FALSE.equals(n.healthy);
      if (n.removedAt == null) n.segment(at, s.state(), !Boolean.FALSE.equals(n.healthy));
    }
    n.reported = s.state();
    n.reportedStamp = s.stamp();
    n.reportedAt = at;
    n.timeline = s.timeline();
    n.lsn = s.lsn();
    if (n.goal != null && !n.goalReached && s.state() == n.goal.state()
        && (s.stamp() != null && s.stamp().compareTo(n.goal.stamp()) >= 0 || at > n.goalAt)) {
      n.goalReached = true;
    }
    PeriodB p = n.period;
    if (p != null && p.goalUntil != null) {
      if (!s.state().canTakeWrites() && p.closedStamp != null && s.stamp() != null
          && s.stamp().compareTo(p.closedStamp) >= 0) {
        stoppedEvidence(n, at, s.state());
      } else if (s.state().canTakeWrites() && p.until != null && at > p.until) {
        finding("writable-after-lease", "warning", at, null, List.of(n.id), n.label() + " reported "
            + s.state() + " (executed " + s.stamp() + ") at " + AuditText.instant(at) + ", after its write lease"
            + " certainly ended at " + AuditText.instant(p.until) + ": its keeper must not be taking writes", null);
      }
    }
    if (n.candidateIn != null && s.state() == STOP_REPLICATION) {
      n.candidateIn.phase("promoted", at, n, null, s.stamp(), "the candidate reported stop_replication: PostgreSQL"
          + " promoted, timeline " + s.timeline());
      n.candidateIn = null;
    }
    if (n.promotedIn != null && s.state().canTakeWrites()) {
      n.promotedIn.phase("new_primary_writable", at, n, null, s.stamp(), "reported " + s.state() + " on timeline "
          + s.timeline() + " at " + s.lsn());
      n.promotedIn = null;
    }
    if (n.rejoin != null && s.state() == MAINTENANCE && n.rejoin.maintenance
        && n.rejoin.phase("maintenance_entered") == null) {
      n.rejoin.phase("maintenance_entered", at, n, null, s.stamp(), "reported maintenance");
    }
  }

  private void stuck(NodeTrack n, long until, String how) {
    boolean down = n.downDuringState || n.removedAt != null;
    finding("stuck-state", down ? "info" : "warning", n.stateSince, until, List.of(n.id), n.label()
        + " stayed in " + n.reported + " for " + AuditText.duration(until - n.stateSince) + " (more than "
        + AuditText.duration(q.stuckBoundMs()) + ") " + how + (down ? " (the node was down)" : ""), null);
  }

  private void healthChanged(NodeTrack n, NodeEvent.HealthChanged h) {
    long at = h.at();
    boolean was = !Boolean.FALSE.equals(n.healthy);
    n.healthy = h.healthy();
    n.healthDetail = h.detail();
    n.healthObserver = h.observer();
    if (n.removedAt != null) return;
    if (was != h.healthy()) n.segment(at, n.reported == null ? NodeState.INIT : n.reported, h.healthy());
    if (!h.healthy()) {
      n.downDuringGoal = true;
      n.downDuringState = true;
      if (n.plannedDown == null && n.loss == null && n.rejoin != null && n.rejoin.endedAt == null
          && "keeper-report".equals(h.observer()) && n.goal != null && !n.goal.state().canTakeWrites()) {
        // its keeper stopped PostgreSQL on the way out or back in: part of the incident, not a loss
        n.plannedDown = n.rejoin;
        n.plannedDown.phase("node_down", at, n, null, null, h.observer() + ": " + h.detail());
        return;
      }
      if (n.plannedDown != null) return;
      if (n.loss == null) {
        IncidentB inc = newIncident("node-loss", at, formation.term(), n.id);
        inc.trigger = new Trigger("health", h.detail(), h.observer(), h.detail(), "controller", null, null, null,
            null, null, null);
        inc.phase("lost", at, n, null, null, h.observer() + ": " + h.detail());
        inc.standbyOnly = true;
        n.loss = inc;
        if (n.goal != null && n.goalAt == at) {
          inc.phase("goal_changed", at, n, n.goalRule, n.goal.stamp(), "goal " + n.goal.state() + ": " + n.goalReason);
        }
      }
      if (failover != null && failover.nodeId != null && failover.nodeId == n.id) {
        if (failover.trigger.observer() == null && failover.trigger.kind().equals("failure")) failover.observedBy(n);
        link(failover, n.loss);
      } else if (n.rejoin != null && !n.rejoin.standbyOnly) {
        link(n.rejoin, n.loss);
      }
    } else if (n.plannedDown != null) {
      n.plannedDown.phase("node_up", at, n, null, null, h.observer() + ": " + h.detail());
      n.plannedDown = null;
    } else if (n.loss != null) {
      n.loss.phase("returned", at, n, null, null, h.observer() + ": " + h.detail());
      n.loss.end(at, "complete");
      n.loss = null;
    }
  }

  private void rewound(NodeTrack n, NodeEvent.Rewound w) {
    IncidentB inc = n.rejoin != null && !n.rejoin.standbyOnly ? n.rejoin : null;
    if (inc == null) {
      for (int i = incidents.size() - 1; i >= 0 && inc == null; i--) {
        IncidentB x = incidents.get(i);
        if (!x.standbyOnly && (x.endedAt == null || x.nodeId != null && x.nodeId == n.id)) inc = x;
      }
    }
    String detail = w.rejoin() == null ? "rejoined" : w.rejoin().method() + " discarded "
        + w.rejoin().bytesDiscarded() + " bytes, timeline " + w.rejoin().fromTimeline() + " -> "
        + w.rejoin().toTimeline();
    if (inc == null) {
      finding("rewind-outside-failover", "warning", w.at(), null, List.of(n.id), n.label() + " was rewound outside"
          + " any failover: " + detail, null);
      return;
    }
    inc.phase("rewound", w.at(), n, null, w.rejoin() == null ? null : w.rejoin().stamp(), detail);
    if (w.rejoin() != null) {
      inc.bytesDiscarded = (inc.bytesDiscarded == null ? 0 : inc.bytesDiscarded) + w.rejoin().bytesDiscarded();
      inc.rejoinMethod = w.rejoin().method();
    }
  }

  private void fenced(NodeTrack n, NodeEvent.Fenced f) {
    PeriodB p = n.period;
    if (p != null && p.goalUntil == null) {
      finding("fenced-while-writable", "warning", f.at(), null, List.of(n.id), n.label() + " fenced itself (term "
          + f.term() + ") while its goal was still writable: its lease was not renewed in time and writes stopped",
          null);
    } else {
      stoppedEvidence(n, f.at(), null);
    }
  }

  // ================================================================== findings

  private void finding(String kind, String severity, long at, Long until, List<Integer> nodeIds, String message,
      String incident) {
    findings.add(new Finding(kind, severity, at, until, nodeIds, message, incident));
  }

  private void overlaps() {
    List<PeriodB> sorted = new ArrayList<>(periods);
    sorted.sort(Comparator.comparingLong((PeriodB p) -> p.from).thenComparingInt(p -> p.node.id));
    for (int i = 0; i < sorted.size(); i++) {
      PeriodB a = sorted.get(i);
      long aEnd = a.until == null ? Long.MAX_VALUE : a.until;
      for (int j = i + 1; j < sorted.size(); j++) {
        PeriodB b = sorted.get(j);
        if (b.from >= aEnd) break;
        if (b.node.id == a.node.id) continue;
        long aGoalEnd = a.goalUntil == null ? Long.MAX_VALUE : a.goalUntil;
        long end = Math.min(aEnd, b.until == null ? Long.MAX_VALUE : b.until);
        Long until = end == Long.MAX_VALUE ? null : end;
        String msg;
        String severity = "critical";
        if (b.from < aGoalEnd) {
          msg = "two writable goals at once: " + b.node.label() + " became writable at " + AuditText.instant(b.from)
              + " (" + b.openedBy + ", term " + b.term + ") while " + a.node.label() + " still had its writable"
              + " goal (" + a.openedBy + ", term " + a.term + ")";
        } else {
          if (a.basis.equals("lease-upper-bound")) severity = "warning";
          msg = b.node.label() + " became writable at " + AuditText.instant(b.from) + " (" + b.openedBy + ", term "
              + b.term + ") while " + a.node.label() + " could still write until " + AuditText.instant(a.until)
              + " (" + a.basis + (a.lastGrantAt == null ? "" : ", last grant " + AuditText.instant(a.lastGrantAt))
              + "; goal taken away at " + AuditText.instant(a.goalUntil) + " by " + a.closedBy + ")";
        }
        finding("overlapping-writers", severity, b.from, until, List.of(a.node.id, b.node.id), msg, null);
      }
    }
  }

  // ================================================================== snapshots

  private void takeSnapshot() {
    snapshotTaken = true;
    snapshot = snapshotNow(q.at());
  }

  /** The formation as folded so far, stated at instant {@code at}. */
  public FormationSnapshot snapshotNow(long at) {
    Integer primary = null;
    List<Integer> lease = new ArrayList<>();
    List<NodeSnapshot> list = new ArrayList<>();
    for (NodeTrack n : nodes.values()) {
      if (n.removedAt != null || n.registeredAt == null) continue;
      if (primary == null && n.goal != null && n.goal.state().canTakeWrites()) primary = n.id;
      PeriodB p = n.period;
      if (p != null && (p.goalUntil == null || p.until != null && p.until > at)) lease.add(n.id);
      NodeSettings settings = formation.member(n.id).map(Member::settings).orElse(n.settings);
      list.add(new NodeSnapshot(n.id, n.name, n.reported, n.reportedStamp, n.reportedAt,
          n.reported == null ? null : n.timeline, n.lsn, n.goal == null ? null : n.goal.state(),
          n.goal == null ? null : n.goal.stamp(), n.goal == null ? null : n.goalAt, n.healthy, n.healthDetail,
          settings));
    }
    String fo = formation.failover() == null ? null : kindOf(formation.failover());
    return new FormationSnapshot(at, formation.exists() && !formation.dropped(), formation.term(), formation.seq(),
        primary, primary == null ? null : nodes.get(primary).name, lease, formation.settings(), fo, list);
  }

  // ================================================================== the report

  /** Ends the fold and states what it found. Call once, after the last event. */
  public AuditReport report() {
    if (report != null) return report;
    long now = q.now() != null ? q.now() : lastAt != null ? lastAt : 0;
    if (q.at() != null && !snapshotTaken) takeSnapshot();
    for (NodeTrack n : nodes.values()) {
      flushUnreached(n, Long.MAX_VALUE);
      if (n.removedAt != null) continue;
      if (n.goal != null && !n.goalReached && now - n.goalAt > q.goalReachBoundMs()) {
        boolean down = n.downDuringGoal || Boolean.FALSE.equals(n.healthy);
        finding("goal-pending", down ? "info" : "warning", n.goalAt, null, List.of(n.id), "node " + n.label()
            + " was assigned " + n.goal.state() + " (" + n.goal.stamp() + ", " + n.goalRule + ") at "
            + AuditText.instant(n.goalAt) + " and had not reported it " + AuditText.duration(now - n.goalAt)
            + " later (bound " + AuditText.duration(q.goalReachBoundMs()) + ")" + (down ? " (the node is down)" : ""),
            null);
      }
      if (n.reported != null && INTERMEDIATE.contains(n.reported) && n.stateSince != null
          && now - n.stateSince > q.stuckBoundMs()) {
        stuck(n, now, "and still does at the end of the journal");
      }
    }
    overlaps();
    List<Incident> inc = new ArrayList<>();
    for (IncidentB b : incidents) {
      Incident i = b.build(now);
      if (q.overlaps(firstPhaseAt(i), i.endedAt())) inc.add(i);
    }
    List<WritablePeriod> prim = new ArrayList<>();
    for (PeriodB p : periods) {
      if (q.overlaps(p.from, p.until)) prim.add(p.build());
    }
    List<Finding> fs = new ArrayList<>();
    for (Finding f : findings) {
      if (q.overlaps(f.at(), f.until() == null ? f.at() : f.until())) fs.add(f);
    }
    fs.sort(Comparator.comparingLong(Finding::at).thenComparing(Finding::kind));
    List<NodeInfo> infos = new ArrayList<>();
    List<Lane> lanes = q.lanes() ? new ArrayList<>() : null;
    for (NodeTrack n : nodes.values()) {
      infos.add(new NodeInfo(n.id, n.name, n.address, n.registeredAt, n.removedAt));
      if (lanes != null && n.registeredAt != null) lanes.add(n.lane(q));
    }
    report = new AuditReport(name, new AuditReport.Window(q.since(), q.until(), q.at(), now, leaseBound,
        q.goalReachBoundMs(), q.stuckBoundMs()), new AuditReport.JournalSpan(events, formationEvents, nodeEvents,
        firstAt, lastAt), infos, prim, inc, fs, snapshot, lanes);
    return report;
  }

  private static long firstPhaseAt(Incident i) {
    long first = i.startedAt();
    for (Phase p : i.phases()) first = Math.min(first, p.at());
    return first;
  }

  /** Events of other formations that were handed in and left out. */
  public long skipped() {
    return skipped;
  }

  static String role(NodeState s, boolean healthy) {
    if (!healthy || s == MAINTENANCE || s == DROPPED) return "down";
    if (s.canTakeWrites()) return "writable";
    if (s == SECONDARY || s == CATCHINGUP) return "standby";
    return "transitioning";
  }

  // ================================================================== mutable parts

  /** What the fold knows of one node. */
  private static final class NodeTrack {
    final int id;
    String name;
    String address;
    Long registeredAt;
    Long removedAt;
    NodeSettings settings;
    NodeState reported;
    TermSeq reportedStamp;
    Long reportedAt;
    Long stateSince;
    boolean downDuringState;
    int timeline;
    Lsn lsn;
    Boolean healthy;
    String healthDetail;
    String healthObserver;
    Goal goal;
    long goalAt;
    String goalRule;
    boolean goalReached;
    boolean downDuringGoal;
    PeriodB period;
    IncidentB loss;
    IncidentB rejoin;
    IncidentB drop;
    IncidentB promotedIn;
    IncidentB candidateIn;
    IncidentB plannedDown;
    String goalReason;
    final List<Unreached> unreached = new ArrayList<>(2);
    IncidentB syncWatch;
    final List<long[]> segFrom = new ArrayList<>(); // {from, state ordinal, healthy 0/1, until or -1}

    NodeTrack(int id) {
      this.id = id;
      this.name = "node_" + id;
    }

    String label() {
      return name + " (" + id + ")";
    }

    void segment(long at, NodeState state, boolean healthy) {
      if (!segFrom.isEmpty()) {
        long[] last = segFrom.get(segFrom.size() - 1);
        if (last[3] < 0) {
          if (last[1] == state.ordinal() && (last[2] == 1) == healthy) return;
          last[3] = at;
        }
      }
      segFrom.add(new long[] {at, state.ordinal(), healthy ? 1 : 0, -1});
    }

    void endSegments(long at) {
      if (segFrom.isEmpty()) return;
      long[] last = segFrom.get(segFrom.size() - 1);
      if (last[3] < 0) last[3] = at;
    }

    Lane lane(AuditQuery q) {
      NodeState[] states = NodeState.values();
      List<Segment> segs = new ArrayList<>();
      for (long[] s : segFrom) {
        Long until = s[3] < 0 ? null : s[3];
        if (!q.overlaps(s[0], until)) continue;
        long from = q.since() != null && s[0] < q.since() ? q.since() : s[0];
        Long to = until;
        if (q.until() != null && (to == null || to > q.until())) to = q.until();
        if (to != null && to < from) to = from;
        NodeState st = states[(int) s[1]];
        segs.add(new Segment(from, to, st, s[2] == 1, role(st, s[2] == 1)));
      }
      return new Lane(id, name, segs);
    }
  }

  /** A writable period being folded. */
  private static final class PeriodB {
    final NodeTrack node;
    final long term;
    final TermSeq openedStamp;
    final long from;
    final String openedBy;
    Long goalUntil;
    String closedBy;
    TermSeq closedStamp;
    Long lastGrantAt;
    Long until;
    String basis;

    PeriodB(NodeTrack node, long term, TermSeq stamp, long from, String openedBy) {
      this.node = node;
      this.term = term;
      this.openedStamp = stamp;
      this.from = from;
      this.openedBy = openedBy;
    }

    WritablePeriod build() {
      return new WritablePeriod(node.id, node.name, term, openedStamp, from, openedBy, goalUntil, closedBy,
          lastGrantAt, until, basis);
    }
  }

  /** A phase being folded; {@code seq} keeps insertion order among equal instants and ranks. */
  private record PhaseB(String name, long at, int rank, int seq, Integer nodeId, String node, String rule,
      TermSeq stamp, String detail) {}

  /** An incident being folded. */
  private final class IncidentB {
    final String id;
    final String kind;
    final long startedAt;
    final long term;
    final Integer nodeId;
    Long endedAt;
    String status;
    Trigger trigger;
    final List<PhaseB> phases = new ArrayList<>();
    final List<String> related = new ArrayList<>();
    Long walAtRisk;
    Long bytesDiscarded;
    String rejoinMethod;
    Integer candidate;
    Integer preferred;
    Integer newPrimary;
    long lastWritableAt;
    Long writesReopenedAt;
    Long writeOutageMs;
    Long detectionMs;
    PeriodB stopPeriod;
    boolean rejoined;
    boolean removed;
    boolean maintenance;
    boolean maintenanceEnded;
    boolean standbyOnly;

    IncidentB(String id, String kind, long startedAt, long term, Integer nodeId) {
      this.id = id;
      this.kind = kind;
      this.startedAt = startedAt;
      this.term = term;
      this.nodeId = nodeId;
      this.maintenance = kind.equals("maintenance");
    }

    void phase(String name, long at, NodeTrack n, String rule, TermSeq stamp, String detail) {
      if (endedAt != null && at > endedAt) endedAt = at; // a late phase (synchronous replication back) belongs to it
      int rank = PHASE_ORDER.indexOf(name);
      phases.add(new PhaseB(name, at, rank < 0 ? PHASE_ORDER.size() : rank, phases.size(), n == null ? null : n.id,
          n == null ? null : n.name, rule, stamp, detail));
    }

    PhaseB phase(String name) {
      for (PhaseB p : phases) {
        if (p.name().equals(name)) return p;
      }
      return null;
    }

    void observedBy(NodeTrack n) {
      Trigger t = trigger;
      trigger = new Trigger(t.kind(), t.cause(), n.healthObserver, n.healthDetail, t.who(), t.reason(),
          t.idempotencyKey(), t.rule(), t.decisionReason(), t.stamp(), t.failedNode());
    }

    void walAtRisk(Decided d) {
      Long w = d.inputs() == null ? null : d.inputs().walAtRiskBytes();
      if (w != null) walAtRisk = walAtRisk == null ? w : Math.max(walAtRisk, w);
    }

    void end(long at, String st) {
      if (endedAt != null) return;
      endedAt = at;
      status = st;
    }

    /** Ends once writes are open again and the node it is about is back (or gone). */
    void maybeEnd() {
      if (endedAt != null || writesReopenedAt == null) return;
      if (kind.equals("node-drop")) {
        if (removed) end(Math.max(writesReopenedAt, lastPhaseAt()), "complete");
      } else if (rejoined || removed) {
        end(Math.max(writesReopenedAt, lastPhaseAt()), "complete");
      }
    }

    long lastPhaseAt() {
      long m = startedAt;
      for (PhaseB p : phases) m = Math.max(m, p.at());
      return m;
    }

    Incident build(long now) {
      List<PhaseB> all = new ArrayList<>(phases);
      if (stopPeriod != null && stopPeriod.until != null) {
        PeriodB p = stopPeriod;
        String how = p.basis.startsWith("reported") ? "the old primary " + p.basis
            : p.basis.equals("fenced") ? "the old primary's keeper reported it fenced itself"
            : "the old primary's write lease certainly ended (last grant " + AuditText.instant(p.lastGrantAt)
                + " + " + leaseBound + " ms" + (p.basis.equals("lease-upper-bound") ? ", grant time unknown" : "")
                + ")";
        all.add(new PhaseB("old_primary_stopped", p.until, PHASE_ORDER.indexOf("old_primary_stopped"), all.size(),
            p.node.id, p.node.name, null, null, how + (p.until > now ? " [after the end of the journal]" : "")));
      }
      all.sort(Comparator.comparingLong(PhaseB::at).thenComparingInt(PhaseB::rank).thenComparingInt(PhaseB::seq));
      List<Phase> out = new ArrayList<>();
      long prev = all.isEmpty() ? startedAt : all.get(0).at();
      for (PhaseB p : all) {
        out.add(new Phase(p.name(), p.at(), p.at() - startedAt, p.at() - prev, p.nodeId(), p.node(), p.rule(),
            p.stamp(), p.detail()));
        prev = p.at();
      }
      String st = status;
      if (st == null) {
        if (writesReopenedAt == null) {
          st = "in-progress";
        } else if (standbyOnly) {
          st = "in-progress";
        } else {
          st = "writes-reopened";
        }
      }
      NodeTrack subject = nodeId == null ? null : nodes.get(nodeId);
      NodeTrack np = newPrimary == null ? null : nodes.get(newPrimary);
      return new Incident(id, kind, st, startedAt, endedAt, term, nodeId, subject == null ? null : subject.name,
          newPrimary, np == null ? null : np.name, trigger, out, walAtRisk, bytesDiscarded, rejoinMethod, detectionMs,
          standbyOnly ? null : writeOutageMs, endedAt == null ? null : endedAt - startedAt, related);
    }
  }
}
