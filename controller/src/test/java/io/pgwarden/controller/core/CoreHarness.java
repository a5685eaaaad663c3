package io.pgwarden.controller.core;

import io.pgwarden.api.ApiException;
import io.pgwarden.api.Dto;
import io.pgwarden.model.FormationEvent;
import io.pgwarden.model.FormationSettings;
import io.pgwarden.model.Lsn;
import io.pgwarden.model.NodeReport;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.PgStatus;
import io.pgwarden.model.ReportReply;
import io.pgwarden.model.Requester;
import io.pgwarden.model.TermSeq;
import io.pgwarden.model.Timing;
import io.pgwarden.model.WalReceiverInfo;
import io.pgwarden.model.WalSenderInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Drives the real decision core with idealised keepers: each node reaches whatever goal it is given
 * at its next report, streams from the primary when a standby, and applies the quorum it is told.
 * Tests switch nodes off (silent), make probes fail, move WAL positions, and read the journal.
 */
final class CoreHarness {
  final DecisionCore core;
  final Timing t;
  Formation f;
  Observations obs;
  long mono = 1_000_000;
  long wall = 1_764_000_000_000L;
  final List<FormationEvent> journal = new ArrayList<>();
  final List<Outcome.NodeNote> notes = new ArrayList<>();
  final TreeMap<Integer, Sim> nodes = new TreeMap<>();
  long wakeAt;

  /** One idealised keeper and its PostgreSQL. */
  static final class Sim {
    final int id;
    NodeState state = NodeState.INIT;
    TermSeq executed = TermSeq.NONE;
    long knownTerm;
    boolean up = true;        // keeper reports
    boolean pgUp = true;      // controller's probe succeeds
    PgStatus pg = PgStatus.RUNNING;
    int timeline = 1;
    long lsn = 0x3000000;
    String syncNames = "";
    Integer upstream;
    boolean streaming = true;
    Long probeAge;
    ReportReply lastReply;

    Sim(int id) {
      this.id = id;
    }
  }

  CoreHarness() {
    this(Timing.DEFAULT);
  }

  CoreHarness(Timing t) {
    this.t = t;
    this.core = new DecisionCore(t);
    f = Formation.empty("f");
    obs = Observations.boot(1, mono);
    run(new Input.CreateFormation(FormationSettings.DEFAULT, Requester.of("test", "")));
    run(new Input.Start(true));
  }

  Now now() {
    return new Now(mono, wall);
  }

  Object run(Input in) {
    Outcome o = core.handle(new DecisionCore.State(f, obs), in, now());
    f = o.formation();
    obs = o.observations();
    long decided = o.events().stream().filter(e -> e instanceof FormationEvent.Decided).count();
    if (decided >= DecisionCore.MAX_DECISIONS) {
      throw new AssertionError("the rules oscillate: " + decided + " decisions for one input " + in + ": "
          + o.events().stream().filter(e -> e instanceof FormationEvent.Decided)
              .map(e -> ((FormationEvent.Decided) e).rule()).limit(6).toList());
    }
    journal.addAll(o.events());
    notes.addAll(o.nodeNotes());
    wakeAt = o.wakeAtMono();
    return o.reply();
  }

  void advance(long ms) {
    long end = mono + ms;
    while (mono < end) {
      long step = Math.min(t.tickMs(), end - mono);
      mono += step;
      wall += step;
      run(new Input.Tick());
    }
  }

  int register(String name) {
    return register(name, 50, true);
  }

  int register(String name, int prio, boolean quorum) {
    Object r = run(new Input.Register(new Dto.RegisterNode(name, "127.0.0.1", 5400 + f.nextNodeId(),
        "http://127.0.0.1:" + (8100 + f.nextNodeId()), prio, quorum), "hash-" + name));
    if (r instanceof ApiException e) throw e;
    Dto.Registration reg = (Dto.Registration) r;
    nodes.put(reg.nodeId(), new Sim(reg.nodeId()));
    return reg.nodeId();
  }

  NodeState goal(int id) {
    return f.member(id).orElseThrow().goalState();
  }

  Sim sim(int id) {
    return nodes.get(id);
  }

  Integer writer() {
    return f.active().stream().filter(m -> m.goalState().canTakeWrites()).map(Member::nodeId).findFirst()
        .orElse(null);
  }

  /** The report an idealised keeper sends: it has reached its goal, with facts that fit the state. */
  NodeReport reportOf(Sim s) {
    boolean writable = s.state.canTakeWrites() || s.state == NodeState.STOP_REPLICATION;
    List<WalSenderInfo> senders = new ArrayList<>();
    WalReceiverInfo receiver = null;
    if (writable) {
      for (Sim o : nodes.values()) {
        if (o.id != s.id && o.up && o.upstream != null && o.upstream == s.id && o.streaming) {
          senders.add(new WalSenderInfo("pgwarden_" + o.id, o.id, "streaming", "async", Lsn.of(o.lsn), Lsn.of(o.lsn),
              100L));
        }
      }
    } else if (s.upstream != null && s.state.isStreamingStandby()) {
      receiver = new WalReceiverInfo(s.streaming ? "streaming" : "waiting", s.upstream, "127.0.0.1", 0, s.timeline,
          s.streaming ? 50L : 10_000L);
    }
    return new NodeReport(s.state, s.executed, s.knownTerm, s.pg, !writable, 7, s.timeline, Lsn.of(s.lsn),
        Lsn.of(s.lsn), s.syncNames, senders, receiver, s.probeAge, false, null, null);
  }

  /** One report from node {@code id}; the keeper adopts the goal it is given at its next report. */
  Object report(int id) {
    Sim s = nodes.get(id);
    Object r = run(new Input.Report(id, reportOf(s)));
    if (r instanceof ReportReply reply) {
      s.lastReply = reply;
      s.knownTerm = Math.max(s.knownTerm, reply.term());
      if (reply.goal().stamp().isNewerThan(s.executed)) execute(s, reply);
    }
    return r;
  }

  private void execute(Sim s, ReportReply reply) {
    NodeState g = reply.goal().state();
    s.executed = reply.goal().stamp();
    NodeState from = s.state;
    s.state = g;
    if (g.canTakeWrites()) {
      s.upstream = null;
      s.syncNames = reply.syncStandbyNames();
      if (!from.canTakeWrites() && from != NodeState.STOP_REPLICATION && from != NodeState.INIT) s.timeline++;
    } else if (g == NodeState.STOP_REPLICATION) {
      s.timeline++;
      s.upstream = null;
    } else if (reply.upstream() != null) {
      s.upstream = reply.upstream().nodeId();
      Sim up = nodes.get(s.upstream);
      if (up != null && g != NodeState.FAST_FORWARD) {
        s.timeline = up.timeline;
        s.lsn = Math.max(s.lsn, up.lsn);
      } else if (g == NodeState.FAST_FORWARD && reply.fastForwardTo() != null) {
        s.lsn = reply.fastForwardTo().value();
      }
    } else if (g == NodeState.REPORT_LSN || g == NodeState.JOIN_SECONDARY) {
      s.upstream = null;
    }
    if (g == NodeState.DRAINING || g == NodeState.DEMOTE_TIMEOUT || g == NodeState.DEMOTED
        || g == NodeState.PREPARE_MAINTENANCE) {
      s.pg = PgStatus.STOPPED;
    } else if (g == NodeState.CATCHINGUP || g == NodeState.SECONDARY || g == NodeState.REPORT_LSN
        || g.canTakeWrites()) {
      s.pg = PgStatus.RUNNING;
    }
  }

  /** Every node that is up reports once, in id order; every node's probe result is fed too. */
  void round() {
    for (Sim s : List.copyOf(nodes.values())) {
      if (!f.members().containsKey(s.id)) continue;
      run(new Input.Probe(s.id, s.pgUp, s.pgUp ? "ok" : "connection refused"));
      if (s.up) report(s.id);
    }
  }

  /** Rounds every {@code stepMs} until no goal changes for a few rounds, or {@code maxMs} passes. */
  void converge(long maxMs) {
    long end = mono + maxMs;
    int quiet = 0;
    while (mono < end && quiet < 4) {
      long seqBefore = f.seq();
      round();
      boolean settled = nodes.values().stream().filter(s -> s.up && f.members().containsKey(s.id))
          .allMatch(s -> s.state == goal(s.id));
      quiet = f.seq() == seqBefore && settled ? quiet + 1 : 0;
      advance(100);
    }
  }

  void converge() {
    converge(30_000);
  }

  /** Time passes with every keeper that is up reporting about every 100 ms. */
  void live(long ms) {
    long end = mono + ms;
    while (mono < end) {
      round();
      advance(100);
    }
  }

  /** Rounds until {@code cond} holds, for at most {@code maxMs}; returns the time it took. */
  long until(java.util.function.BooleanSupplier cond, long maxMs) {
    long start = mono;
    while (!cond.getAsBoolean()) {
      if (mono - start > maxMs) throw new AssertionError("condition not met within " + maxMs + " ms; goals " + goals());
      round();
      advance(100);
    }
    return mono - start;
  }

  /** The primary/standby formation of the bootstrap: one node per name, all converged. */
  static CoreHarness formation(String... names) {
    CoreHarness h = new CoreHarness();
    for (String n : names) {
      h.register(n);
      h.converge();
    }
    h.advance(h.t.startupGraceMs());
    h.converge();
    return h;
  }

  String goals() {
    StringBuilder sb = new StringBuilder();
    for (Member m : f.members().values()) {
      Sim s = nodes.get(m.nodeId());
      sb.append(m.name()).append('=').append(s == null ? "?" : s.state).append("/").append(m.goalState()).append(' ');
    }
    return sb.toString().trim();
  }

  List<FormationEvent.Decided> decisions() {
    return journal.stream().filter(e -> e instanceof FormationEvent.Decided).map(e -> (FormationEvent.Decided) e)
        .toList();
  }

  List<String> rules() {
    return decisions().stream().map(FormationEvent.Decided::rule).toList();
  }

  FormationEvent.Decided lastDecision() {
    List<FormationEvent.Decided> d = decisions();
    return d.get(d.size() - 1);
  }

  FormationEvent.Decided decisionBy(String rule) {
    return decisions().stream().filter(d -> d.rule().equals(rule)).reduce((a, b) -> b)
        .orElseThrow(() -> new AssertionError("rule " + rule + " never fired; fired: " + rules()));
  }

  Object operator(String kind, String node, Long value, boolean flag, String key) {
    return run(new Input.Operator(new Dto.OperatorRequest(kind, node, flag, flag, value, "test", key),
        new Requester("alice", "test", key == null ? "" : key)));
  }

  void with(int id, Consumer<Sim> change) {
    change.accept(nodes.get(id));
  }
}
