package io.pgwarden.controller.core;

import static io.pgwarden.model.NodeState.CATCHINGUP;
import static io.pgwarden.model.NodeState.DRAINING;
import static io.pgwarden.model.NodeState.DROPPED;
import static io.pgwarden.model.NodeState.MAINTENANCE;
import static io.pgwarden.model.NodeState.PREPARE_MAINTENANCE;
import static io.pgwarden.model.NodeState.PREPARE_PROMOTION;
import static io.pgwarden.model.NodeState.PRIMARY;
import static io.pgwarden.model.NodeState.REPORT_LSN;
import static io.pgwarden.model.NodeState.SECONDARY;
import static io.pgwarden.model.NodeState.WAIT_MAINTENANCE;
import static io.pgwarden.model.NodeState.WAIT_PRIMARY;

import io.pgwarden.api.ApiException;
import io.pgwarden.api.Dto;
import io.pgwarden.model.FormationEvent;
import io.pgwarden.model.FormationEvent.FailoverContext;
import io.pgwarden.model.FormationSettings;
import io.pgwarden.model.NodeEvent;
import io.pgwarden.model.NodeSettings;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.Requester;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;

/**
 * Operator actions (pg_auto_failover §6.7): each is checked against the formation's state first, and a
 * refused action changes nothing. An action with an idempotency key already seen returns the operation
 * it created the first time.
 */
final class OperatorActions {
  static final List<String> KINDS = List.of("failover", "switchover", "promotion", "maintenance-on",
      "maintenance-off", "drop-node", "set-candidate-priority", "set-replication-quorum",
      "set-number-sync-standbys", "set-failover-data-loss-allowed");

  private final DecisionCore.Step s;

  OperatorActions(DecisionCore.Step s) {
    this.s = s;
  }

  Dto.Operation perform(Input.Operator op) {
    s.requireFormation();
    Dto.OperatorRequest req = op.request();
    Requester by = op.by();
    if (req.kind() == null) throw ApiException.badRequest("missing action kind; one of " + KINDS);
    String kind = req.kind().toLowerCase(Locale.ROOT);
    if (!KINDS.contains(kind)) throw ApiException.badRequest("unknown action '" + req.kind() + "'; one of " + KINDS);
    String key = by.idempotencyKey();
    if (key != null && !key.isEmpty() && s.f.operations().containsKey(key)) {
      Formation.OperationRecord rec = s.f.operations().get(key);
      if (!answers(rec.kind(), kind)) {
        throw ApiException.conflict("idempotency key '" + key + "' was used for another request (" + rec.id() + ", "
            + rec.kind() + "): use a new key for a new request");
      }
      Dto.Operation earlier = view(rec, req.node());
      return new Dto.Operation(earlier.id(), earlier.formation(), kind, earlier.node(), earlier.status(),
          earlier.message(), earlier.by(), earlier.createdAt(), earlier.updatedAt(), earlier.stamp());
    }
    boolean longAction = switch (kind) {
      case "failover", "switchover" -> failover(kind, null, by);
      case "promotion" -> promotion(node(req), by);
      case "maintenance-on" -> maintenanceOn(node(req), Boolean.TRUE.equals(req.allowFailover()), by);
      case "maintenance-off" -> maintenanceOff(node(req), by);
      case "drop-node" -> dropNode(node(req), Boolean.TRUE.equals(req.force()), by);
      case "set-candidate-priority" -> setPriority(node(req), value(req, 0, 100), by);
      case "set-replication-quorum" -> setQuorum(node(req), value(req, 0, 1) == 1, by);
      case "set-number-sync-standbys" -> setNumberSyncStandbys((int) value(req, 0, 64), by);
      case "set-failover-data-loss-allowed" -> {
        s.emit(new FormationEvent.FormationSettingsChanged(
            s.f.settings().withFailoverDataLossAllowed(value(req, 0, Long.MAX_VALUE)), by, s.now.wall()));
        yield false;
      }
      default -> throw ApiException.badRequest("unknown action " + kind);
    };
    s.settle("operator");
    Formation.OperationRecord rec = key == null || key.isEmpty() ? null : s.f.operations().get(key);
    String id = rec != null ? rec.id() : "op-" + s.f.stamp().term() + "-" + s.f.stamp().seq();
    return new Dto.Operation(id, s.f.name(), kind, req.node(), longAction ? "accepted" : "succeeded",
        longAction ? "accepted: follow it with GET .../operations/" + id : "done", by, s.now.wall(), s.now.wall(),
        s.f.stamp());
  }

  /**
   * Whether an operation journaled as {@code recorded} (the rule of its decision, or the kind of its
   * settings event) can be the answer to a retried request of {@code kind}. The target node is not
   * journaled with the operation, so a retry naming another node is not told apart.
   */
  static boolean answers(String recorded, String kind) {
    return switch (kind) {
      case "maintenance-on" -> recorded.equals("operator-maintenance-on")
          || recorded.equals("operator-maintenance-primary");
      case "drop-node" -> recorded.equals("operator-drop-node") || recorded.equals("drop-node");
      case "set-candidate-priority", "set-replication-quorum" -> recorded.equals("set-node-settings");
      case "set-number-sync-standbys", "set-failover-data-loss-allowed" -> recorded.equals("set-formation-settings");
      default -> recorded.equals("operator-" + kind);
    };
  }

  Dto.Operation view(Formation.OperationRecord rec, String node) {
    Dto.Operation v = OperationStatus.view(s.f, s.obs, s.timing(), s.now, rec);
    return new Dto.Operation(v.id(), v.formation(), v.kind(), node, v.status(), v.message(), v.by(), v.createdAt(),
        v.updatedAt(), v.stamp());
  }

  // ------------------------------------------------------------------ actions

  private boolean failover(String kind, Member preferred, Requester by) {
    Member w = writer();
    if (w == null && s.f.failover() == null && !candidateInFlight()) {
      throw ApiException.conflict("formation '" + s.f.name() + "' has no primary to fail over from");
    }
    if (w == null || s.f.failover() != null || candidateInFlight()) {
      throw ApiException.conflict("a failover is already in progress in formation '" + s.f.name() + "'");
    }
    List<Member> others = others(w);
    if (others.isEmpty()) throw ApiException.conflict(w.name() + " is the only node: there is nothing to fail over to");
    if (!current(w, PRIMARY)) {
      throw ApiException.conflict("primary " + w.name() + " is " + rep(w) + ", not primary: its standbys are not"
          + " known to be synchronous, so a " + kind + " could lose writes; wait until it is primary");
    }
    FailureDetector d = detector();
    boolean anyCandidate = others.stream().anyMatch(n -> current(n, SECONDARY) && d.healthy(n.nodeId())
        && n.settings().promotable());
    if (!anyCandidate) throw ApiException.conflict("no healthy secondary with candidate priority > 0 to promote");
    requireNoLoss(w, others, kind);
    FailoverContext ctx = new FailoverContext(preferred == null ? kind : "promotion", w.nodeId(),
        preferred == null ? null : preferred.nodeId(), "operator " + by.who() + ": " + by.reason());
    TreeMap<Integer, NodeState> g = new TreeMap<>();
    g.put(w.nodeId(), DRAINING);
    if (s.f.active().size() == 2) {
      Member sb = others.get(0);
      if (!current(sb, SECONDARY)) throw ApiException.conflict(sb.name() + " is not secondary");
      g.put(sb.nodeId(), PREPARE_PROMOTION);
    } else {
      for (Member n : others) {
        if (EnumSet.of(SECONDARY, CATCHINGUP).contains(n.goalState()) && n.goalState() == rep(n)) {
          g.put(n.nodeId(), REPORT_LSN);
        }
      }
    }
    s.decide(new GroupRules.Decision("operator-" + ctx.kind(), ctx.kind() + " requested by " + by.who()
        + (by.reason().isEmpty() ? "" : " (" + by.reason() + ")"), g, true, 0L, ctx,
        preferred == null ? null : preferred.nodeId()), "operator", by);
    return true;
  }

  private boolean promotion(Member target, Requester by) {
    if (target.goalState().canTakeWrites()) {
      throw new ApiException(409, "already_primary", target.name() + " is already the primary");
    }
    if (!target.settings().promotable()) {
      throw ApiException.conflict(target.name() + " has candidate priority 0 and cannot be promoted; raise it first");
    }
    if (!current(target, SECONDARY) && !current(target, REPORT_LSN)) {
      throw ApiException.conflict(target.name() + " is " + rep(target) + ", not secondary: it cannot be promoted now");
    }
    return failover("promotion", target, by);
  }

  private boolean maintenanceOn(Member n, boolean allowFailover, Requester by) {
    if (n.goalState() == MAINTENANCE) return false;
    Member w = writer();
    FailureDetector d = detector();
    if (w != null && w.nodeId() == n.nodeId()) {
      if (!allowFailover) {
        throw ApiException.conflict(n.name() + " is the primary: maintenance on it means a failover; repeat with"
            + " allow_failover");
      }
      if (!current(w, PRIMARY) || s.f.failover() != null) {
        throw ApiException.conflict("primary " + w.name() + " is " + rep(w) + ": wait until it is primary");
      }
      List<Member> candidates = others(w).stream().filter(x -> current(x, SECONDARY) && d.healthy(x.nodeId())
          && x.settings().promotable()).toList();
      if (candidates.isEmpty()) {
        throw ApiException.conflict("maintenance on " + w.name() + " would leave no candidate to promote");
      }
      requireNoLoss(w, others(w), "maintenance of the primary");
      TreeMap<Integer, NodeState> g = new TreeMap<>();
      g.put(w.nodeId(), PREPARE_MAINTENANCE);
      if (s.f.active().size() == 2) {
        g.put(candidates.get(0).nodeId(), PREPARE_PROMOTION);
      } else {
        for (Member x : others(w)) {
          if (EnumSet.of(SECONDARY, CATCHINGUP).contains(x.goalState()) && x.goalState() == rep(x)) {
            g.put(x.nodeId(), REPORT_LSN);
          }
        }
      }
      FailoverContext ctx = new FailoverContext("maintenance", w.nodeId(), null, "operator " + by.who() + ": "
          + by.reason());
      s.decide(new GroupRules.Decision("operator-maintenance-primary", "maintenance of primary " + w.name()
          + " requested by " + by.who(), g, true, 0L, ctx, null), "operator", by);
      return true;
    }
    if (!EnumSet.of(SECONDARY, CATCHINGUP).contains(n.goalState()) || rep(n) != n.goalState()) {
      throw ApiException.conflict(n.name() + " is " + rep(n) + ": maintenance needs a secondary or catchingup node");
    }
    if (w == null || !(current(w, PRIMARY) || current(w, WAIT_PRIMARY))) {
      throw ApiException.conflict("the formation has no settled primary: wait before starting maintenance");
    }
    int nss = s.f.settings().numberSyncStandbys();
    long healthyQuorum = others(w).stream().filter(x -> x.nodeId() != n.nodeId() && current(x, SECONDARY)
        && x.settings().replicationQuorum() && d.healthy(x.nodeId())).count();
    TreeMap<Integer, NodeState> g = new TreeMap<>();
    if (n.settings().replicationQuorum() && healthyQuorum < nss) {
      throw ApiException.conflict("maintenance on " + n.name() + " leaves " + healthyQuorum
          + " synchronous standby(s) for number_sync_standbys " + nss + ": writes would block");
    }
    if (n.settings().replicationQuorum() && current(n, SECONDARY) && healthyQuorum == 0 && current(w, PRIMARY)) {
      g.put(w.nodeId(), WAIT_PRIMARY);
      g.put(n.nodeId(), WAIT_MAINTENANCE);
    } else {
      g.put(n.nodeId(), MAINTENANCE);
    }
    s.decide(new GroupRules.Decision("operator-maintenance-on", "maintenance of " + n.name() + " requested by "
        + by.who(), g, false, null, null, null), "operator", by);
    return true;
  }

  private boolean maintenanceOff(Member n, Requester by) {
    if (n.goalState() != MAINTENANCE || rep(n) != MAINTENANCE) {
      throw ApiException.conflict(n.name() + " is not in maintenance");
    }
    Member w = writer();
    NodeState next;
    if (w != null) {
      next = CATCHINGUP;
    } else if (s.f.active().size() > 2 || s.f.failover() != null) {
      next = REPORT_LSN;
    } else if (s.f.active().size() == 1) {
      next = NodeState.SINGLE;
    } else {
      throw ApiException.conflict("the formation has no primary for " + n.name() + " to follow");
    }
    TreeMap<Integer, NodeState> g = new TreeMap<>();
    g.put(n.nodeId(), next);
    s.decide(new GroupRules.Decision("operator-maintenance-off", "end of maintenance of " + n.name()
        + " requested by " + by.who(), g, next == NodeState.SINGLE, null, null, null), "operator", by);
    return true;
  }

  private boolean dropNode(Member n, boolean force, Requester by) {
    if (force || n.goalState() == DROPPED && rep(n) == DROPPED) {
      s.emit(new FormationEvent.NodeRemoved(n.nodeId(), force ? "dropped by force" : "dropped", by, s.now.wall()));
      s.notes.add(new Outcome.NodeNote(n.nodeId(), new NodeEvent.Dropped(by, s.now.wall())));
      lowerNumberSyncStandbys(by);
      return false;
    }
    Member w = writer();
    TreeMap<Integer, NodeState> g = new TreeMap<>();
    g.put(n.nodeId(), DROPPED);
    FailoverContext ctx = null;
    if (w != null && w.nodeId() == n.nodeId()) {
      List<Member> rest = others(n);
      // the node that takes over must hold every write the dropped primary acknowledged; --force is the
      // operator's way of accepting otherwise
      if (!rest.isEmpty()) requireNoLoss(w, rest, "drop of the primary");
      if (rest.size() >= 2) {
        // only standbys that are where their goal says join at once (as for a switchover); the others, an old
        // primary still down for one, are asked by the election when they can answer
        for (Member x : rest) {
          if (EnumSet.of(SECONDARY, CATCHINGUP).contains(x.goalState()) && x.goalState() == rep(x)) {
            g.put(x.nodeId(), REPORT_LSN);
          }
        }
      }
      ctx = new FailoverContext("drop", n.nodeId(), null, "operator " + by.who() + " dropped the primary");
    }
    s.decide(new GroupRules.Decision("operator-drop-node", "drop of " + n.name() + " requested by " + by.who(), g,
        ctx != null, null, ctx, null), "operator", by);
    lowerNumberSyncStandbys(by);
    return true;
  }

  /** After a drop, number_sync_standbys never asks for more quorum standbys than remain. */
  private void lowerNumberSyncStandbys(Requester by) {
    int nss = s.f.settings().numberSyncStandbys();
    if (nss == 0) return;
    Member w = writer();
    long quorum = s.f.active().stream().filter(m -> w == null || m.nodeId() != w.nodeId())
        .filter(m -> m.settings().replicationQuorum()).count();
    int max = (int) Math.max(0, quorum - 1);
    if (nss > max) {
      s.emit(new FormationEvent.FormationSettingsChanged(s.f.settings().withNumberSyncStandbys(max),
          Requester.of(by.who(), "number_sync_standbys lowered to " + max + " after a drop"), s.now.wall()));
    }
  }

  private boolean setPriority(Member n, long p, Requester by) {
    applySettingsAllowed();
    s.emit(new FormationEvent.NodeSettingsChanged(n.nodeId(), n.settings().withPriority((int) p), by, s.now.wall()));
    s.notes.add(new Outcome.NodeNote(n.nodeId(), new NodeEvent.SettingsChanged(s.f.member(n.nodeId()).orElseThrow()
        .settings(), by, s.now.wall())));
    return false;
  }

  private boolean setQuorum(Member n, boolean q, Requester by) {
    applySettingsAllowed();
    int nss = s.f.settings().numberSyncStandbys();
    Member w = writer();
    if (!q && nss > 0) {
      long remaining = s.f.active().stream().filter(m -> m.nodeId() != n.nodeId())
          .filter(m -> w == null || m.nodeId() != w.nodeId()).filter(m -> m.settings().replicationQuorum()).count();
      if (remaining < nss + 1) {
        throw ApiException.conflict("number_sync_standbys is " + nss + ": at least " + (nss + 1)
            + " quorum standbys must remain, there would be " + remaining);
      }
    }
    NodeSettings ns = n.settings().withQuorum(q);
    s.emit(new FormationEvent.NodeSettingsChanged(n.nodeId(), ns, by, s.now.wall()));
    s.notes.add(new Outcome.NodeNote(n.nodeId(), new NodeEvent.SettingsChanged(ns, by, s.now.wall())));
    return false;
  }

  private boolean setNumberSyncStandbys(int n, Requester by) {
    Member w = writer();
    if (w == null || !(current(w, PRIMARY) || current(w, WAIT_PRIMARY))) {
      throw ApiException.conflict("number_sync_standbys can change only while the primary is primary or wait_primary");
    }
    long quorum = others(w).stream().filter(m -> m.settings().replicationQuorum()).count();
    if (n > 0 && quorum < n + 1) {
      throw ApiException.conflict("number_sync_standbys " + n + " needs at least " + (n + 1)
          + " quorum standbys, the formation has " + quorum);
    }
    FormationSettings fs = s.f.settings().withNumberSyncStandbys(n);
    s.emit(new FormationEvent.FormationSettingsChanged(fs, by, s.now.wall()));
    return false;
  }

  private void applySettingsAllowed() {
    Member w = writer();
    if (w != null && (w.goalState() == NodeState.APPLY_SETTINGS || rep(w) == NodeState.APPLY_SETTINGS)) {
      throw ApiException.conflict("primary " + w.name() + " is applying settings: retry when it is done");
    }
  }

  /**
   * A planned promotion must not lose acknowledged writes either: the primary's synchronous quorum must
   * guarantee that the node promoted has them — with two nodes, the standby is in every quorum the primary
   * may be applying; with more, every such quorum is synchronous (the election then waits for it). A
   * primary that replicates asynchronously (its standbys out of the quorum) is refused unless the operator
   * allowed data loss (found by the simulator: a switchover promoted a standby that had missed the last
   * acknowledged commits while it was disconnected).
   */
  private void requireNoLoss(Member w, List<Member> others, String kind) {
    if (s.f.settings().failoverDataLossAllowed() > 0) return;
    GroupRules rules = GroupRules.of(s.f, s.obs, s.timing(), s.now.mono());
    java.util.Set<SyncConfig> configs = rules.possibleConfigs(w);
    boolean guaranteed = configs.stream().allMatch(SyncConfig::synchronous);
    boolean ok = guaranteed && (s.f.active().size() != 2 || GroupRules.covers(configs, java.util.Set.of(
        others.get(0).nodeId())));
    if (!ok) {
      throw ApiException.conflict("primary " + w.name() + " is not confirmed synchronous with its standbys: a "
          + kind + " could lose acknowledged writes; put a standby in the replication quorum (or allow data loss,"
          + " or force a drop) and retry");
    }
  }

  // ------------------------------------------------------------------ helpers

  private Member node(Dto.OperatorRequest req) {
    if (req.node() == null || req.node().isBlank()) throw ApiException.badRequest("this action needs a node name");
    return s.f.memberByName(req.node()).orElseThrow(
        () -> ApiException.notFound("no node named '" + req.node() + "' in formation '" + s.f.name() + "'"));
  }

  private static long value(Dto.OperatorRequest req, long min, long max) {
    if (req.value() == null) throw ApiException.badRequest("this action needs a value");
    if (req.value() < min || req.value() > max) {
      throw ApiException.badRequest("value " + req.value() + " is out of range [" + min + ", " + max + "]");
    }
    return req.value();
  }

  private FailureDetector detector() {
    return new FailureDetector(s.f, s.obs, s.timing(), s.now.mono());
  }

  private Member writer() {
    return s.f.active().stream().filter(m -> m.goalState().canTakeWrites()).findFirst().orElse(null);
  }

  private boolean candidateInFlight() {
    return s.f.active().stream().anyMatch(m -> EnumSet.of(NodeState.FAST_FORWARD, PREPARE_PROMOTION,
        NodeState.STOP_REPLICATION).contains(m.goalState()));
  }

  private List<Member> others(Member w) {
    return s.f.active().stream().filter(m -> m.nodeId() != w.nodeId()).toList();
  }

  private NodeState rep(Member m) {
    return detector().reported(m.nodeId());
  }

  private boolean current(Member m, NodeState st) {
    return m.goalState() == st && rep(m) == st;
  }
}
