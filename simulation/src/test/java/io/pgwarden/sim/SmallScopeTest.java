package io.pgwarden.sim;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgwarden.api.ApiException;
import io.pgwarden.api.Dto;
import io.pgwarden.controller.core.DecisionCore;
import io.pgwarden.controller.core.Formation;
import io.pgwarden.controller.core.Input;
import io.pgwarden.controller.core.Member;
import io.pgwarden.controller.core.Now;
import io.pgwarden.controller.core.Observations;
import io.pgwarden.controller.core.Observed;
import io.pgwarden.controller.core.Outcome;
import io.pgwarden.keeper.TransitionPlanner;
import io.pgwarden.model.FormationEvent;
import io.pgwarden.model.FormationSettings;
import io.pgwarden.model.Goal;
import io.pgwarden.model.Lsn;
import io.pgwarden.model.NodeAddress;
import io.pgwarden.model.NodeReport;
import io.pgwarden.model.NodeSettings;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.PgStatus;
import io.pgwarden.model.Requester;
import io.pgwarden.model.TermSeq;
import io.pgwarden.model.Timing;
import io.pgwarden.model.WalReceiverInfo;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The exhaustive small-scope check: for two and three nodes, every combination of assigned goal and
 * reported state a node can be in (its goal, a state the planner moves from into that goal, or no report
 * yet), with the writer's lease fresh or long expired, times every trigger (a tick, each node's report,
 * each node's probe failing, operator actions), through the real decision core. Each outcome is checked
 * against invariant 1 (never two writable goals; writes never move while another node may hold a lease),
 * invariant 3 for one step (the rules settle: fewer than the core's cap of decisions per input; no
 * exception) and invariant 4 (the term and (term, seq) only grow; every new goal is stamped above the old
 * stamp).
 */
class SmallScopeTest {
  static final Timing T = Timing.DEFAULT;
  static final DecisionCore CORE = new DecisionCore(T);
  static final long BOOT = 1_000_000;
  static final long NOW = BOOT + 60_000;
  static final long WALL = 1_764_000_000_000L;
  static final Set<NodeState> CANDIDATE = EnumSet.of(NodeState.PREPARE_PROMOTION, NodeState.STOP_REPLICATION,
      NodeState.FAST_FORWARD);

  /** The (goal, reported) pairs of one node; reported null: no report in this incarnation. */
  static List<NodeState[]> pairs() {
    List<NodeState[]> out = new ArrayList<>();
    for (NodeState g : NodeState.values()) {
      if (g == NodeState.INIT) continue;
      out.add(new NodeState[] {g, g});
      out.add(new NodeState[] {g, null});
      for (TransitionPlanner.Row r : TransitionPlanner.rows()) {
        if (r.to() != g || r.from().size() > 10) continue;
        for (NodeState f : r.from()) {
          if (f != g) out.add(new NodeState[] {g, f});
        }
      }
    }
    return out;
  }

  record Checked(long states, long inputs, List<String> violations) {}

  @Test
  void twoAndThreeNodes() {
    List<NodeState[]> pairs = pairs();
    Checked two = explore(2, pairs, true);
    Checked three = explore(3, pairs, false);
    System.out.println("SMALL-SCOPE 2 nodes: " + two.states() + " states, " + two.inputs() + " inputs; 3 nodes: "
        + three.states() + " states, " + three.inputs() + " inputs; " + pairs.size() + " (goal, reported) pairs"
        + " per node");
    List<String> all = new ArrayList<>(two.violations());
    all.addAll(three.violations());
    java.util.TreeMap<String, Integer> kinds = new java.util.TreeMap<>();
    java.util.TreeMap<String, String> example = new java.util.TreeMap<>();
    for (String v : all) {
      String k = v.substring(v.indexOf(": ") + 2).replaceAll("[0-9]+", "#");
      kinds.merge(k, 1, Integer::sum);
      example.putIfAbsent(k, v);
    }
    kinds.forEach((k, c) -> System.out.println("SMALL-SCOPE violation x" + c + ": " + example.get(k)));
    assertTrue(all.isEmpty(), all.size() + " violation(s), first: " + all.subList(0, Math.min(20, all.size())));
  }

  private Checked explore(int n, List<NodeState[]> pairs, boolean allTriggers) {
    long states = 0;
    long inputs = 0;
    List<String> violations = new ArrayList<>();
    int[] idx = new int[n];
    int p = pairs.size();
    long total = 1;
    for (int i = 0; i < n; i++) total *= p;
    for (long k = 0; k < total; k++) {
      long x = k;
      for (int i = 0; i < n; i++) {
        idx[i] = (int) (x % p);
        x /= p;
      }
      int writable = 0;
      int candidates = 0;
      for (int i = 0; i < n; i++) {
        NodeState g = pairs.get(idx[i])[0];
        if (g.canTakeWrites()) writable++;
        if (CANDIDATE.contains(g)) candidates++;
      }
      if (writable > 1 || candidates > 1) continue; // the core never assigns these (invariant 1 keeps it so)
      for (boolean freshLease : new boolean[] {false, true}) {
        if (freshLease && writable == 0) continue;
        states++;
        DecisionCore.State st = state(n, idx, pairs, freshLease);
        List<Input> ins = new ArrayList<>(triggers(n, allTriggers));
        for (int id = 1; id <= n; id++) {
          NodeReport r = st.observations().of(id).report();
          if (r != null) ins.add(new Input.Report(id, r));
        }
        for (Input in : ins) {
          inputs++;
          check(st, in, violations, n, idx, pairs, freshLease);
          if (violations.size() > 5000) return new Checked(states, inputs, violations);
        }
      }
    }
    return new Checked(states, inputs, violations);
  }

  static List<Input> triggers(int n, boolean all) {
    List<Input> out = new ArrayList<>();
    out.add(new Input.Tick());
    for (int id = 1; id <= n; id++) {
      out.add(new Input.Probe(id, false, "timeout"));
    }
    out.add(op("switchover", null, null));
    if (all) {
      out.add(op("promotion", "n2", null));
      out.add(op("maintenance-on", "n1", null));
      out.add(op("maintenance-off", "n2", null));
      out.add(op("drop-node", "n2", null));
      out.add(op("set-candidate-priority", "n2", 0L));
      out.add(op("set-number-sync-standbys", null, 0L));
    }
    return out;
  }

  static Input op(String kind, String node, Long value) {
    return new Input.Operator(new Dto.OperatorRequest(kind, node, true, false, value, "small scope", ""),
        Requester.of("checker", "small scope"));
  }

  /** The formation with these goals, and observations with these reports, at NOW. */
  static DecisionCore.State state(int n, int[] idx, List<NodeState[]> pairs, boolean freshLease) {
    Formation f = Formation.empty("s");
    f = f.apply(new FormationEvent.FormationCreated("s", FormationSettings.DEFAULT, Requester.CONTROLLER, 0));
    for (int id = 1; id <= n; id++) {
      f = f.apply(new FormationEvent.NodeRegistered(id, "n" + id, new NodeAddress("h" + id, 5432), "http://h" + id,
          NodeSettings.DEFAULT, "x", 0));
    }
    List<Goal> goals = new ArrayList<>();
    TermSeq stamp = new TermSeq(3, 10);
    int writer = 0;
    for (int id = 1; id <= n; id++) {
      NodeState g = pairs.get(idx[id - 1])[0];
      goals.add(new Goal(id, g, stamp));
      if (g.canTakeWrites()) writer = id;
    }
    f = f.apply(new FormationEvent.Decided(stamp, goals, "setup", "", null, Requester.CONTROLLER, 0));
    if (writer != 0) {
      List<Integer> members = new ArrayList<>();
      for (int id = 1; id <= n; id++) {
        if (id != writer) members.add(id);
      }
      f = f.apply(new FormationEvent.QuorumConfirmed(writer, 1, members, 0));
    }
    Observations obs = Observations.boot(1, BOOT).tick(NOW - 50, T.pauseMs());
    for (int id = 1; id <= n; id++) {
      NodeState rep = pairs.get(idx[id - 1])[1];
      NodeState g = pairs.get(idx[id - 1])[0];
      Observed o = Observed.NOTHING;
      if (rep != null) {
        boolean primaryLike = rep.canTakeWrites() || rep == NodeState.STOP_REPLICATION;
        TermSeq executed = rep == g ? stamp : new TermSeq(3, 9);
        WalReceiverInfo wr = !primaryLike && writer != 0 && writer != id
            ? new WalReceiverInfo("streaming", writer, "h" + writer, 5432, 1, 20L) : null;
        String names = primaryLike ? "ANY 1 (" + (id == 1 ? "pgwarden_2" : "pgwarden_1") + ")" : "";
        NodeReport r = new NodeReport(rep, executed, 3, PgStatus.RUNNING, !primaryLike, 7, 1,
            Lsn.of(0x3000000L + id * 100), Lsn.of(0x3000000L + id * 100), names, List.of(), wr, 100L, false, null,
            null);
        o = o.withReport(r, NOW - 100).withProbe(true, "ok", NOW - 100);
      }
      if (freshLease && id == writer) o = o.withGrant(NOW - 300);
      obs = obs.with(id, o);
    }
    return new DecisionCore.State(f, obs);
  }

  private void check(DecisionCore.State st, Input in, List<String> violations, int n, int[] idx,
      List<NodeState[]> pairs, boolean freshLease) {
    String where = describe(n, idx, pairs, freshLease) + " + " + label(in);
    Outcome o;
    try {
      o = CORE.handle(st, in, new Now(NOW, WALL));
    } catch (RuntimeException e) {
      violations.add(where + ": the core threw " + e);
      return;
    }
    if (o.reply() instanceof ApiException e && e.status() >= 500) violations.add(where + ": 500 " + e.getMessage());
    Formation before = st.formation();
    Formation after = o.formation();
    // (4) terms and stamps only grow, each new goal above the old stamp
    if (after.term() < before.term() || after.stamp().compareTo(before.stamp()) < 0) {
      violations.add(where + ": stamp went back " + before.stamp() + " -> " + after.stamp());
    }
    TermSeq last = before.stamp();
    int decided = 0;
    Formation f = before;
    for (FormationEvent e : o.events()) {
      if (e instanceof FormationEvent.Decided d) {
        decided++;
        if (!d.stamp().isNewerThan(last)) violations.add(where + ": decision " + d.rule() + " stamped " + d.stamp()
            + " not above " + last);
        last = d.stamp();
        // (1) a node made writable while another may still write
        for (Goal g : d.goals()) {
          Member m = f.member(g.nodeId()).orElse(null);
          if (m == null || !g.state().canTakeWrites() || m.goalState().canTakeWrites()) continue;
          for (Member other : f.active()) {
            if (other.nodeId() == g.nodeId()) continue;
            Long grant = o.observations().of(other.nodeId()).lastGrantMono();
            boolean mayHoldLease = grant != null && NOW - grant < T.leaseCertainlyExpiredAfterMs();
            if (mayHoldLease && !d.rule().startsWith("operator")) {
              violations.add(where + ": " + d.rule() + " made node " + g.nodeId() + " writable while node "
                  + other.nodeId() + " may hold a lease granted " + (NOW - grant) + " ms ago");
            }
          }
        }
      }
      f = f.apply(e);
    }
    int writable = 0;
    for (Member m : after.active()) {
      if (m.goalState().canTakeWrites()) writable++;
    }
    if (writable > 1) violations.add(where + ": " + writable + " writable goals after the step");
    // (3) one step: the rules settle
    if (decided >= 12) violations.add(where + ": " + decided + " decisions for one input (the rules oscillate)");
  }

  static String describe(int n, int[] idx, List<NodeState[]> pairs, boolean freshLease) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      NodeState[] pr = pairs.get(idx[i]);
      sb.append(i + 1).append('=').append(pr[0]).append('/').append(pr[1]).append(' ');
    }
    return sb.append(freshLease ? "(writer's lease fresh)" : "(leases expired)").toString();
  }

  static String label(Input in) {
    if (in instanceof Input.Operator op) return "operator " + op.request().kind() + " " + op.request().node();
    if (in instanceof Input.Probe p) return "probe of " + p.nodeId() + " fails";
    if (in instanceof Input.Report r) return "report of " + r.nodeId();
    return in.getClass().getSimpleName();
  }
}
