package io.pgwarden.controller.core;

import io.pgwarden.api.ApiException;
import io.pgwarden.api.Dto;
import io.pgwarden.model.DecisionInputs;
import io.pgwarden.model.FormationEvent;
import io.pgwarden.model.FormationEvent.Decided;
import io.pgwarden.model.Goal;
import io.pgwarden.model.Lease;
import io.pgwarden.model.Lsn;
import io.pgwarden.model.NodeAddress;
import io.pgwarden.model.NodeEvent;
import io.pgwarden.model.NodeFacts;
import io.pgwarden.model.NodeReport;
import io.pgwarden.model.NodeSettings;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.PeerInfo;
import io.pgwarden.model.ReportReply;
import io.pgwarden.model.Requester;
import io.pgwarden.model.TermSeq;
import io.pgwarden.model.Timing;
import io.pgwarden.node.ReportValidator;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The supervisor's decision core: {@code handle(state, input, now) → outcome}. It validates the input,
 * folds what it observes, runs the group rules until none fires, and says what to journal and what to
 * answer. It never reads a clock, never does I/O and never iterates a hash order, so the simulator runs
 * exactly this code.
 */
public final class DecisionCore {
  /** At most this many decisions follow one input; the rules converge long before. */
  static final int MAX_DECISIONS = 12;
  static final Pattern NODE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");

  private final Timing timing;

  public DecisionCore(Timing timing) {
    this.timing = timing;
  }

  public Timing timing() {
    return timing;
  }

  /** The state of one formation as the core sees it: journaled part and observed part. */
  public record State(Formation formation, Observations observations) {}

  public Outcome handle(State state, Input input, Now now) {
    Step s = new Step(state.formation(), state.observations().tick(now.mono(), timing.pauseMs()), now);
    try {
      Object reply;
      if (input instanceof Input.Start st) {
        reply = s.start(st.recovered());
      } else if (input instanceof Input.Tick) {
        reply = s.steady() ? null : s.settle("tick");
      } else if (input instanceof Input.CreateFormation c) {
        reply = s.createFormation(c);
      } else if (input instanceof Input.DropFormation d) {
        reply = s.dropFormation(d);
      } else if (input instanceof Input.Register r) {
        reply = s.register(r);
      } else if (input instanceof Input.Report r) {
        reply = s.report(r);
      } else if (input instanceof Input.Probe p) {
        reply = s.probe(p);
      } else if (input instanceof Input.Operator o) {
        reply = new OperatorActions(s).perform(o);
      } else {
        throw new IllegalArgumentException("unknown input " + input);
      }
      return s.outcome(reply);
    } catch (ApiException e) {
      // A refused input changes nothing: drop whatever the step had prepared, keep only its observations
      // when the refusal itself is worth remembering (a journaled anomaly).
      return s.refused(e, state);
    }
  }

  /** The answer a node gets now: its goal, and a lease or permit when it may have one. */
  public Outcome reply(State state, int nodeId, Now now) {
    Step s = new Step(state.formation(), state.observations(), now);
    return s.outcome(s.replyFor(nodeId));
  }

  /** One input's worth of work: the state as it evolves, and what it produced. */
  final class Step {
    Formation f;
    Observations obs;
    final Now now;
    final List<FormationEvent> events = new ArrayList<>();
    final List<Outcome.NodeNote> notes = new ArrayList<>();
    final Set<Integer> changed = new TreeSet<>();
    final List<Outcome.NodeNote> keepOnRefusal = new ArrayList<>();
    Observations obsOnRefusal;
    long wakeAt;

    Step(Formation f, Observations obs, Now now) {
      this.f = f;
      this.obs = obs;
      this.now = now;
    }

    Timing timing() {
      return timing;
    }

    void emit(FormationEvent e) {
      events.add(e);
      f = f.apply(e);
    }

    Outcome outcome(Object reply) {
      return new Outcome(List.copyOf(events), f, obs, reply, List.copyOf(notes), Set.copyOf(changed), wakeAt);
    }

    Outcome refused(ApiException e, State original) {
      Observations o = obsOnRefusal != null ? obsOnRefusal : original.observations();
      return new Outcome(List.of(), original.formation(), o, e, List.copyOf(keepOnRefusal), Set.of(), 0);
    }

    void requireFormation() {
      if (!f.exists() || f.dropped()) throw ApiException.notFound("formation '" + f.name() + "' does not exist");
    }

    Member requireMember(int nodeId) {
      return f.member(nodeId).orElseThrow(
          () -> ApiException.notFound("node " + nodeId + " is not registered in formation '" + f.name() + "'"));
    }

    // ------------------------------------------------------------------ inputs

    Object start(boolean recovered) {
      if (recovered && f.exists()) {
        emit(new FormationEvent.TermRaised(f.term() + 1, "controller start (epoch " + obs.epoch() + ")", now.wall()));
      }
      return settle("start");
    }

    Object createFormation(Input.CreateFormation c) {
      if (f.exists() && !f.dropped()) throw ApiException.conflict("formation '" + f.name() + "' already exists");
      if (f.dropped()) throw ApiException.conflict("formation '" + f.name() + "' was dropped; its name is not reused");
      emit(new FormationEvent.FormationCreated(f.name(), c.settings(), c.by(), now.wall()));
      return f;
    }

    Object dropFormation(Input.DropFormation d) {
      requireFormation();
      if (!f.members().isEmpty()) {
        throw ApiException.conflict("formation '" + f.name() + "' still has " + f.members().size()
            + " node(s): drop them first");
      }
      emit(new FormationEvent.FormationDropped(d.by(), now.wall()));
      return f;
    }

    Object register(Input.Register r) {
      requireFormation();
      Dto.RegisterNode req = r.request();
      NodeAddress address;
      NodeSettings settings;
      try {
        address = new NodeAddress(req.host(), req.port());
        settings = new NodeSettings(req.candidatePriority() == null ? 50 : req.candidatePriority(),
            req.replicationQuorum() == null || req.replicationQuorum());
      } catch (IllegalArgumentException e) {
        throw ApiException.badRequest(e.getMessage());
      }
      int id = f.nextNodeId();
      String name = req.name() == null || req.name().isBlank() ? "node_" + id : req.name();
      if (!NODE_NAME.matcher(name).matches()) {
        throw ApiException.badRequest("node name '" + name + "' must match " + NODE_NAME.pattern());
      }
      for (Member m : f.members().values()) {
        if (m.name().equals(name)) throw ApiException.conflict("a node named '" + name + "' is already registered");
        if (m.address().equals(address)) {
          throw ApiException.conflict("node " + m.name() + " is already registered at " + address);
        }
      }
      List<Member> active = f.active();
      NodeState initial;
      if (active.isEmpty()) {
        initial = settings.promotable() ? NodeState.SINGLE : NodeState.REPORT_LSN;
      } else if (active.stream().anyMatch(m -> m.goalState().canTakeWrites()
          || m.goalState() == NodeState.PREPARE_PROMOTION || m.goalState() == NodeState.STOP_REPLICATION)) {
        initial = NodeState.WAIT_STANDBY;
      } else {
        throw ApiException.conflict("formation '" + f.name() + "' has no primary to clone from right now; retry");
      }
      if (initial == NodeState.SINGLE && !GroupRules.of(f, obs, timing, now.mono()).writesMayMoveTo(id)) {
        throw ApiException.conflict("a former primary's write lease may still run; retry in "
            + timing.leaseCertainlyExpiredAfterMs() + " ms");
      }
      emit(new FormationEvent.NodeRegistered(id, name, address, req.keeperApi(), settings, r.credentialHash(),
          now.wall()));
      long quorumStandbys = active.stream().filter(m -> !m.goalState().canTakeWrites())
          .filter(m -> m.settings().replicationQuorum()).count() + (settings.replicationQuorum() ? 1 : 0);
      if (f.settings().numberSyncStandbys() == 0 && quorumStandbys >= 2) {
        emit(new FormationEvent.FormationSettingsChanged(f.settings().withNumberSyncStandbys(1),
            Requester.of("controller", "second quorum standby " + name + " joined"), now.wall()));
      }
      decide(new GroupRules.Decision("register", name + " registered at " + address,
          new java.util.TreeMap<>(Map.of(id, initial)), initial == NodeState.SINGLE, null, null, null), "register",
          Requester.CONTROLLER);
      notes.add(new Outcome.NodeNote(id, new NodeEvent.Registered(f.name(), id, name, address, settings, now.wall())));
      settle("register");
      Member m = f.member(id).orElseThrow();
      return new Dto.Registration(id, name, null, m.goal(), settings, f.settings(), f.term(), timing);
    }

    Object report(Input.Report in) {
      requireFormation();
      Member m = requireMember(in.nodeId());
      NodeReport r = in.report();
      Observed before = obs.of(m.nodeId());
      // What a keeper executed only grows: a report older than the last one seen was overtaken on the way
      // (a retried or delayed request). Its facts are older than what the controller already has; taken
      // for news they would move a node back to a state it has left.
      if (before.report() != null && r.executed().compareTo(before.report().executed()) < 0) {
        return replyFor(m.nodeId());
      }
      Optional<ReportValidator.Anomaly> bad = ReportValidator.check(f.systemIdentifier(), before.report(), r);
      if (bad.isPresent()) {
        ReportValidator.Anomaly a = bad.get();
        if (!a.kind().equals(before.anomaly())) {
          keepOnRefusal.add(new Outcome.NodeNote(m.nodeId(), new NodeEvent.ReportRejected(a.kind(), a.detail(),
              now.wall())));
        }
        obsOnRefusal = obs.with(m.nodeId(), before.withAnomaly(a.kind()));
        throw new ApiException(409, "report_rejected", a.detail());
      }
      // A keeper that executed a decision newer than the journal's last, or newer than the goal the
      // journal has for it, executed one this controller does not have: the journal lost its tail. (After
      // a restart the term is raised, so the journal's stamp alone can look newer than the lost decision.)
      if (r.knownTerm() > f.term() || r.executed().compareTo(f.stamp()) > 0
          || r.executed().isNewerThan(m.goal().stamp())) {
        restampAfterLostTail(m, r);
      }
      obs = obs.with(m.nodeId(), before.withReport(r, now.mono()));
      if (f.systemIdentifier() == 0 && r.systemIdentifier() != 0 && r.state().canTakeWrites()) {
        emit(new FormationEvent.SystemIdentifierSet(r.systemIdentifier(), m.nodeId(), now.wall()));
      }
      confirmQuorum(m, r);
      // Facts for the node's own journal, sent when they differ from the previous report (the NodeActor
      // checks again against what it journaled, which also covers a controller restart).
      NodeReport prev = before.report();
      if (prev == null || prev.state() != r.state()) {
        notes.add(new Outcome.NodeNote(m.nodeId(), new NodeEvent.StateReached(r.state(), r.executed(), r.timeline(),
            r.lsn(), now.wall())));
      }
      if (r.lastRejoin() != null && (prev == null || !r.lastRejoin().equals(prev.lastRejoin()))) {
        notes.add(new Outcome.NodeNote(m.nodeId(), new NodeEvent.Rewound(r.lastRejoin(), now.wall())));
      }
      if (r.fenced() && (prev == null || !prev.fenced())) {
        notes.add(new Outcome.NodeNote(m.nodeId(), new NodeEvent.Fenced(r.knownTerm(), now.wall())));
      }
      if (m.goalState() == NodeState.DROPPED && r.state() == NodeState.DROPPED) {
        emit(new FormationEvent.NodeRemoved(m.nodeId(), "keeper confirmed the drop", Requester.CONTROLLER,
            now.wall()));
        notes.add(new Outcome.NodeNote(m.nodeId(), new NodeEvent.Dropped(Requester.CONTROLLER, now.wall())));
        settle("report");
        return new ReportReply(f.name(), new Goal(m.nodeId(), NodeState.DROPPED, m.goal().stamp()), f.term(),
            obs.epoch(), null, 0, null, null, "", List.of(), m.settings(), f.settings());
      }
      settle("report");
      return replyFor(m.nodeId());
    }

    Object probe(Input.Probe p) {
      if (!f.members().containsKey(p.nodeId())) return null;
      Boolean before = obs.of(p.nodeId()).probeOk();
      obs = obs.with(p.nodeId(), obs.of(p.nodeId()).withProbe(p.ok(), p.detail(), now.mono()));
      // an unchanged answer changes nothing now; how long a probe has been failing is the ticks' business
      return before != null && before == p.ok() ? null : settle("probe");
    }

    /**
     * Nothing can become due before the next tick: no failover is in progress, every node reported its
     * goal as reached, and every report is young enough that no silence can be crossed within two ticks.
     * Ticks then skip the rules, which keeps a controller of thousands of idle formations cheap.
     */
    boolean steady() {
      if (!f.exists() || f.failover() != null) return false;
      long margin = 2 * timing.tickMs();
      for (Member m : f.active()) {
        Observed o = obs.of(m.nodeId());
        if (o.report() == null || o.report().state() != m.goalState()) return false;
        if (now.mono() - Math.max(o.reportMono(), obs.pauseEndMono()) > timing.silenceMs() - margin) return false;
      }
      return true;
    }

    /**
     * A keeper executed a decision this controller does not have: the journal lost its tail. Raise the
     * term above everything and re-issue every goal, so that no keeper ignores an order as not newer;
     * the node that ran ahead keeps the state it reached.
     */
    private void restampAfterLostTail(Member m, NodeReport r) {
      long term = Math.max(f.term(), Math.max(r.knownTerm(), r.executed().term())) + 1;
      emit(new FormationEvent.TermRaised(term, "node " + m.name() + " executed " + r.executed()
          + " beyond the journal's " + f.stamp() + ": the journal lost its tail", now.wall()));
      java.util.TreeMap<Integer, NodeState> all = new java.util.TreeMap<>();
      for (Member x : f.members().values()) all.put(x.nodeId(), x.goalState());
      FormationEvent.FailoverContext ctx = null;
      if (r.executed().compareTo(m.goal().stamp()) > 0) {
        NodeState reached = r.state();
        all.put(m.nodeId(), reached);
        // A node that ran ahead into a promotion, or into writes, was moved there by a failover the journal
        // lost: the node the journal still has writable is the one that failover deposed. Keeping both would
        // leave two writers (or a candidate beside a primary) in the goals.
        boolean candidate = reached == NodeState.PREPARE_PROMOTION || reached == NodeState.STOP_REPLICATION
            || reached == NodeState.FAST_FORWARD;
        if (candidate || reached.canTakeWrites()) {
          for (Member o : f.active()) {
            NodeState g = o.goalState();
            if (o.nodeId() == m.nodeId() || !g.canTakeWrites() || g == NodeState.SINGLE) continue;
            all.put(o.nodeId(), reached.canTakeWrites() ? NodeState.DEMOTED : NodeState.DEMOTE_TIMEOUT);
            if (candidate && f.failover() == null) {
              ctx = new FormationEvent.FailoverContext("automatic", o.nodeId(), null,
                  "a failover the journal lost (node " + m.name() + " reached " + reached + ")");
            }
          }
        }
      }
      decide(new GroupRules.Decision("restamp-after-lost-tail", "re-issuing every goal in term " + term, all, false,
          null, ctx, null), "report", Requester.CONTROLLER, true);
    }

    /** Remember the synchronous quorum the primary applies, once it is known to be caught up. */
    private void confirmQuorum(Member m, NodeReport r) {
      if (!m.goalState().canTakeWrites() || !r.state().canTakeWrites()) return;
      // A report without facts (server stopped, starting or hung) says nothing of the quorum in effect:
      // its empty synchronous_standby_names must not be believed as a weaker guarantee.
      if (r.pg() != io.pgwarden.model.PgStatus.RUNNING) return;
      SyncConfig applied = SyncConfig.parse(m.nodeId(), r.syncStandbyNames());
      SyncConfig conf = f.confirmedQuorum();
      boolean same = conf.primaryId() == m.nodeId() && conf.required() == applied.required()
          && conf.members().equals(applied.members());
      if (same) return;
      // Weaker guarantees are believed at once; a stronger one only once the primary reports the state it
      // reaches after its quorum has caught up.
      if (!applied.synchronous() || r.state() == NodeState.PRIMARY) {
        emit(new FormationEvent.QuorumConfirmed(m.nodeId(), applied.required(), List.copyOf(applied.members()),
            now.wall()));
      }
    }

    // ------------------------------------------------------------------ decisions

    /** Run the group rules until none fires; journal each decision; publish health flips. */
    Object settle(String trigger) {
      if (!f.exists() || f.dropped()) return null;
      for (int i = 0; i < MAX_DECISIONS; i++) {
        GroupRules.Result res = GroupRules.evaluate(f, obs, timing, now.mono());
        if (res.wakeAtMono() > 0 && (wakeAt == 0 || res.wakeAtMono() < wakeAt)) wakeAt = res.wakeAtMono();
        if (res.decision().isEmpty()) break;
        decide(res.decision().get(), trigger, Requester.CONTROLLER);
      }
      publishHealth();
      return null;
    }

    void decide(GroupRules.Decision d, String trigger, Requester by) {
      decide(d, trigger, by, false);
    }

    void decide(GroupRules.Decision d, String trigger, Requester by, boolean restampAll) {
      TermSeq stamp = new TermSeq(f.term() + (d.newTerm() ? 1 : 0), f.seq() + 1);
      List<Goal> goals = new ArrayList<>();
      for (var e : d.goals().entrySet()) {
        Member m = f.members().get(e.getKey());
        if (m == null) continue;
        if (restampAll || m.goalState() != e.getValue()) goals.add(new Goal(m.nodeId(), e.getValue(), stamp));
      }
      if (goals.isEmpty()) return;
      emit(new Decided(stamp, goals, d.rule(), d.reason(), inputs(trigger, d.walAtRisk()), by, now.wall(),
          d.failover()));
      for (Goal g : goals) changed.add(g.nodeId());
    }

    DecisionInputs inputs(String trigger, Long walAtRisk) {
      FailureDetector det = new FailureDetector(f, obs, timing, now.mono());
      List<NodeFacts> facts = new ArrayList<>();
      for (Member m : f.members().values()) facts.add(det.facts(m));
      return new DecisionInputs(trigger, facts, walAtRisk, obs.uptime(now.mono()));
    }

    private void publishHealth() {
      FailureDetector det = new FailureDetector(f, obs, timing, now.mono());
      for (Member m : f.members().values()) {
        Observed o = obs.of(m.nodeId());
        if (o.report() == null && o.probeOk() == null) continue;
        boolean h;
        if (det.healthy(m.nodeId())) {
          h = true;
        } else if (det.unhealthy(m.nodeId())) {
          h = false;
        } else {
          continue; // unknown: no flip
        }
        if (o.healthy() == null || o.healthy() != h) {
          obs = obs.with(m.nodeId(), o.withHealthy(h));
          if (o.healthy() != null || !h) {
            String observer = o.probeOk() != null && !o.probeOk() ? "controller-probe" : "keeper-report";
            String detail = h ? "healthy" : det.keeperSilent(m.nodeId())
                ? "keeper silent " + det.silentFor(m.nodeId()) + " ms" + (o.probeDetail() == null ? ""
                : ", probe: " + o.probeDetail())
                : "PostgreSQL " + (o.report() == null ? "unknown" : o.report().pg().wireName());
            notes.add(new Outcome.NodeNote(m.nodeId(), new NodeEvent.HealthChanged(h, observer, detail, now.wall())));
          }
        }
      }
    }

    // ------------------------------------------------------------------ replies

    ReportReply replyFor(int nodeId) {
      Member m = f.members().get(nodeId);
      if (m == null) throw ApiException.notFound("node " + nodeId + " is not registered");
      Lease lease = null;
      long permit = 0;
      // The keeper counts a lease (and a permit) from when it SENT the report this answers, which is no
      // later than when that report arrived here: the grant is remembered at the arrival of the node's
      // latest report, not at the answer, which a held long-poll may send up to its wait later. Counting
      // from the answer was safe but kept writes from moving for up to one long-poll wait after the
      // lease had certainly ended.
      Long arrived = obs.of(nodeId).reportMono();
      long grantAt = arrived == null ? now.mono() : Math.min(now.mono(), arrived);
      Long before = obs.of(nodeId).lastGrantMono();
      long leaseAt = before == null ? grantAt : Math.max(before, grantAt);
      Long permitBefore = obs.of(nodeId).permitGrantMono();
      long permitAt = permitBefore == null ? grantAt : Math.max(permitBefore, grantAt);
      if (m.goalState().canTakeWrites() && f.active().stream()
          .filter(x -> x.goalState().canTakeWrites()).count() == 1) {
        lease = new Lease(f.term(), timing.leaseMs());
        obs = obs.with(nodeId, obs.of(nodeId).withGrant(leaseAt));
      }
      if (m.goalState() == NodeState.STOP_REPLICATION) {
        permit = timing.permitMs();
        obs = obs.with(nodeId, obs.of(nodeId).withPermit(permitAt));
      }
      PeerInfo upstream = null;
      Lsn ffTarget = null;
      if (m.goalState() == NodeState.FAST_FORWARD) {
        Member src = mostAdvancedReporting();
        if (src != null) {
          upstream = peer(src);
          ffTarget = obs.of(src.nodeId()).report().lsn();
        }
      } else if (m.goalState() != NodeState.REPORT_LSN && m.goalState() != NodeState.JOIN_SECONDARY
          && !m.goalState().canTakeWrites()) {
        Member w = f.active().stream().filter(x -> x.goalState().canTakeWrites()).findFirst().orElse(null);
        if (w != null && w.nodeId() != nodeId) upstream = peer(w);
      }
      String names = m.goalState().canTakeWrites() ? GroupRules.of(f, obs, timing, now.mono()).desiredNames(nodeId)
          : "";
      List<PeerInfo> peers = new ArrayList<>();
      for (Member x : f.members().values()) {
        if (x.nodeId() != nodeId) peers.add(peer(x));
      }
      return new ReportReply(f.name(), m.goal(), f.term(), obs.epoch(), lease, permit, upstream, ffTarget, names,
          peers, m.settings(), f.settings());
    }

    private Member mostAdvancedReporting() {
      Member best = null;
      for (Member x : f.active()) {
        NodeReport r = obs.of(x.nodeId()).report();
        if (x.goalState() != NodeState.REPORT_LSN || r == null || r.state() != NodeState.REPORT_LSN) continue;
        NodeReport br = best == null ? null : obs.of(best.nodeId()).report();
        if (br == null || r.timeline() > br.timeline() || r.timeline() == br.timeline() && r.lsn().compareTo(br.lsn()) > 0) {
          best = x;
        }
      }
      return best;
    }

    private PeerInfo peer(Member x) {
      return new PeerInfo(x.nodeId(), x.name(), x.address(), x.keeperApi(), x.goalState(), x.settings());
    }
  }
}
