package io.pgwarden.sim;

import io.pgwarden.api.ApiException;
import io.pgwarden.api.Dto;
import io.pgwarden.controller.core.DecisionCore;
import io.pgwarden.controller.core.Formation;
import io.pgwarden.controller.core.Input;
import io.pgwarden.controller.core.Member;
import io.pgwarden.controller.core.Now;
import io.pgwarden.controller.core.Observations;
import io.pgwarden.controller.core.Outcome;
import io.pgwarden.model.FormationEvent;
import io.pgwarden.model.Goal;
import io.pgwarden.model.NodeReport;
import io.pgwarden.model.ReportReply;
import io.pgwarden.model.TermSeq;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BiConsumer;

/**
 * The controller process: the shell the real FormationSupervisor is, around the real
 * {@link DecisionCore}. Every input goes through {@code handle}; events are journaled (one write, after
 * a simulated latency, with commands stashed meanwhile) before any reply leaves; reports are held as
 * long-polls; ticks and probes run on timers of the controller's own clock. The journal is an in-memory
 * event list; a restart folds it afresh ({@code Formation.empty} then {@code apply} each event) with
 * fresh observations, and a crash can lose its tail.
 */
final class SimController {
  final World w;
  final Host host;
  final Proc proc;
  final DecisionCore core;
  final String formation = "sim";
  final List<FormationEvent> journal = new ArrayList<>();
  final List<Outcome.NodeNote> nodeJournal = new ArrayList<>();
  Formation f;
  Observations obs;
  long epoch;
  private Formation replayed;
  private boolean persisting;
  private List<FormationEvent> inFlight = List.of();
  private ArrayDeque<Runnable> stash = new ArrayDeque<>();
  private final TreeMap<Long, Poll> polls = new TreeMap<>();
  private long nextPoll = 1;
  private final TreeSet<Integer> probing = new TreeSet<>();
  private TermSeq lastStamp = TermSeq.NONE;
  long startedAtUs;
  /** The decision trace, when the run records one (null otherwise). */
  DecisionTrace.Recorder recorder;

  private record Poll(int nodeId, Net.Responder r) {}

  SimController(World w, Host host) {
    this.w = w;
    this.host = host;
    this.proc = new Proc(w, host, "controller");
    this.core = new DecisionCore(w.cfg.timing());
  }

  Now now() {
    return new Now(host.clock.monoMs(w.now), host.clock.wallMs(w.now));
  }

  private void trace(String what) {
    w.trace("controller", what);
  }

  // ------------------------------------------------------------------ life

  void start() {
    proc.start();
    epoch++;
    startedAtUs = w.now;
    f = fold(journal);
    replayed = f;
    obs = Observations.boot(epoch, host.clock.monoMs(w.now));
    persisting = false;
    inFlight = List.of();
    stash = new ArrayDeque<>();
    polls.clear();
    probing.clear();
    lastStamp = f.stamp();
    if (recorder != null) recorder.restart(epoch, obs.bootMono(), journal.size());
    trace("started (epoch " + epoch + "): journal of " + journal.size() + " events, term " + f.term() + " seq "
        + f.seq());
    run(new Input.Start(f.exists()), null, null);
    proc.timer(w.cfg.timing().tickMs(), this::tick);
    proc.timer(w.cfg.timing().probeIntervalMs(), this::probeRound);
  }

  /** Dies; an unconfirmed write may have reached the journal or not; the journal may lose its tail. */
  void crash(String why, int tailLoss) {
    if (!proc.alive) return;
    if (persisting && w.rng.chance(0.5)) journal.addAll(inFlight);
    int lose = Math.min(tailLoss, journal.size());
    if (w.cfg.bugs().contains(Bugs.GOALS_PER_NODE) && lose > 0) {
      // separate per-node streams: any of the last writes may be the ones lost
      List<FormationEvent> tail = new ArrayList<>(journal.subList(journal.size() - Math.min(journal.size(), 4),
          journal.size()));
      journal.subList(journal.size() - tail.size(), journal.size()).clear();
      for (FormationEvent e : tail) {
        if (lose > 0 && w.rng.chance(0.5)) {
          lose--;
        } else {
          journal.add(e);
        }
      }
    } else {
      for (int i = 0; i < lose; i++) journal.remove(journal.size() - 1);
    }
    proc.kill();
    persisting = false;
    for (Poll p : polls.values()) p.r().reset("connection reset");
    polls.clear();
    trace("crashed: " + why + (tailLoss > 0 ? " (journal lost up to " + tailLoss + " event(s))" : ""));
  }

  static Formation fold(List<FormationEvent> events) {
    Formation x = Formation.empty("sim");
    for (FormationEvent e : events) x = x.apply(e);
    return x;
  }

  // ------------------------------------------------------------------ the one path every input takes

  private void submit(Runnable r) {
    if (persisting) {
      stash.add(r);
    } else {
      r.run();
    }
  }

  private void run(Input in, Net.Responder replyTo, BiConsumer<Formation, Object> then) {
    Outcome o;
    try {
      o = core.handle(new DecisionCore.State(f, obs), in, now());
    } catch (RuntimeException e) {
      w.inv.violation("core-threw", "DecisionCore.handle(" + in.getClass().getSimpleName() + ") threw " + e);
      ApiException err = new ApiException(500, "internal", "internal error");
      if (replyTo != null) replyTo.reply(err);
      if (then != null) then.accept(f, err);
      return;
    }
    obs = o.observations();
    if (recorder != null) recorder.input(now(), in, o.events());
    if (o.reply() instanceof ApiException e && e.status() >= 500) {
      w.inv.violation("core-500", e.getMessage());
    }
    List<FormationEvent> events = o.events();
    w.inv.decisionOutcome(this, in, o);
    if (events.isEmpty()) {
      afterPersist(o, replyTo, then);
      return;
    }
    for (FormationEvent e : events) {
      w.stats.event(e);
      if (e instanceof FormationEvent.Decided d) w.faults.onDecided(d);
    }
    for (FormationEvent e : events) {
      if (e instanceof FormationEvent.Decided d) {
        trace("decided " + d.stamp() + " " + d.rule() + " " + goalsText(d.goals()) + " (" + d.reason() + ")");
      } else if (!(e instanceof FormationEvent.QuorumConfirmed)) {
        trace("journal " + e.getClass().getSimpleName() + " " + brief(e));
      }
    }
    List<FormationEvent> toWrite = w.cfg.bugs().contains(Bugs.GOALS_PER_NODE) ? perNode(events) : events;
    persisting = true;
    inFlight = toWrite;
    long ms = w.rng.chance(0.01) ? w.rng.between(50, 600) : w.rng.between(1, 8);
    long inc = proc.incarnation;
    if (w.cfg.bugs().contains(Bugs.GOALS_PER_NODE) && toWrite.size() > 1) {
      // one write per node stream, each confirming on its own; the decision's replies wait for all
      int[] left = {toWrite.size()};
      for (FormationEvent e : toWrite) {
        proc.post(w.rng.between(1, 30) * 1000, () -> {
          if (proc.incarnation != inc) return;
          journal.add(e);
          inFlight = inFlight.stream().filter(x -> x != e).toList();
          if (--left[0] == 0) persisted(o, replyTo, then);
        });
      }
      return;
    }
    proc.post(ms * 1000, () -> {
      if (proc.incarnation != inc) return;
      journal.addAll(toWrite);
      persisted(o, replyTo, then);
    });
  }

  private void persisted(Outcome o, Net.Responder replyTo, BiConsumer<Formation, Object> then) {
    inFlight = List.of();
    persisting = false;
    for (int i = journal.size() - o.events().size(); i < journal.size(); i++) {
      if (i >= 0) replayed = replayed.apply(journal.get(i));
    }
    f = o.formation();
    if (!w.cfg.bugs().contains(Bugs.GOALS_PER_NODE)) w.inv.journalMatches(this, replayed);
    afterPersist(o, replyTo, then);
    while (!persisting && !stash.isEmpty()) stash.poll().run();
  }

  /** The known bug: every goal of a decision becomes its own journal event. */
  private static List<FormationEvent> perNode(List<FormationEvent> events) {
    List<FormationEvent> out = new ArrayList<>();
    for (FormationEvent e : events) {
      if (e instanceof FormationEvent.Decided d && d.goals().size() > 1) {
        for (Goal g : d.goals()) {
          out.add(new FormationEvent.Decided(d.stamp(), List.of(g), d.rule(), d.reason(), d.inputs(), d.by(), d.at(),
              d.failover()));
        }
      } else {
        out.add(e);
      }
    }
    return out;
  }

  private void afterPersist(Outcome o, Net.Responder replyTo, BiConsumer<Formation, Object> then) {
    TermSeq st = f.stamp();
    if (st.compareTo(lastStamp) < 0) {
      w.inv.violation("stamp-went-back", "controller stamp " + st + " after " + lastStamp + " in epoch " + epoch);
    }
    lastStamp = st;
    nodeJournal.addAll(o.nodeNotes());
    if (replyTo != null) replyTo.reply(o.reply());
    if (then != null) then.accept(f, o.reply());
    TreeSet<Integer> wake = new TreeSet<>(o.goalsChanged());
    for (FormationEvent e : o.events()) {
      if (e instanceof FormationEvent.NodeRemoved r) wake.add(r.nodeId());
    }
    if (!wake.isEmpty()) {
      List<Long> woken = new ArrayList<>();
      for (var e : polls.entrySet()) {
        if (wake.contains(e.getValue().nodeId())) woken.add(e.getKey());
      }
      for (long id : woken) answerPoll(polls.remove(id));
    }
    if (o.wakeAtMono() > 0) {
      long delay = Math.max(1, o.wakeAtMono() - host.clock.monoMs(w.now));
      proc.timer(delay, () -> submit(() -> run(new Input.Tick(), null, null)));
    }
  }

  private void answerPoll(Poll p) {
    Object reply;
    try {
      if (recorder != null) recorder.reply(now(), p.nodeId());
      Outcome o = core.reply(new DecisionCore.State(f, obs), p.nodeId(), now());
      obs = o.observations();
      reply = o.reply();
    } catch (ApiException e) {
      reply = e;
    }
    p.r().reply(reply);
  }

  // ------------------------------------------------------------------ inputs

  private void tick() {
    submit(() -> run(new Input.Tick(), null, null));
    proc.timer(w.cfg.timing().tickMs(), this::tick);
  }

  private void probeRound() {
    proc.timer(w.cfg.timing().probeIntervalMs(), this::probeRound);
    for (Member m : f.members().values()) {
      int id = m.nodeId();
      SimNode n = w.nodeById(id);
      if (n == null || !probing.add(id)) continue;
      long timeout = w.cfg.timing().probeTimeoutMs();
      Net.Link l = w.net.path(host, n.host);
      boolean back = w.net.path(n.host, host) == Net.Link.OPEN;
      long rtt = 2 * w.net.latency(host, n.host);
      boolean answers = l == Net.Link.OPEN && back && n.pg.answering();
      boolean refused = l == Net.Link.RESET || l == Net.Link.OPEN && back && !n.pg.up() && n.host.up;
      long tookUs = answers ? rtt + w.rng.between(300, 3_000) : refused ? rtt : timeout * 1000;
      boolean ok = answers && tookUs < timeout * 1000;
      String detail = ok ? "ok" : refused ? "connection refused" : "timeout";
      proc.post(Math.min(tookUs, timeout * 1000), () -> {
        probing.remove(id);
        submit(() -> run(new Input.Probe(id, ok, detail), null, null));
      });
    }
  }

  /** A keeper's report arrived (server side of the HTTP exchange). */
  void onReport(int nodeId, NodeReport report, TermSeq known, long waitMs, Net.Responder r) {
    submit(() -> run(new Input.Report(nodeId, report), null, (after, reply) -> {
      boolean hold = reply instanceof ReportReply rr && waitMs > 0 && known != null
          && !rr.goal().stamp().isNewerThan(known);
      if (!hold) {
        r.reply(reply);
        return;
      }
      long id = nextPoll++;
      polls.put(id, new Poll(nodeId, r));
      proc.timer(waitMs, () -> submit(() -> {
        Poll p = polls.remove(id);
        if (p != null) answerPoll(p);
      }));
    }));
  }

  void onInput(Input in, Net.Responder r) {
    submit(() -> run(in, r, null));
  }

  /** Formation creation at bootstrap (the operator's `create formation`). */
  void createFormation(io.pgwarden.model.FormationSettings s) {
    submit(() -> run(new Input.CreateFormation(s, io.pgwarden.model.Requester.of("sim", "bootstrap")), null, null));
  }

  void register(Dto.RegisterNode req, Net.Responder r) {
    submit(() -> run(new Input.Register(req, "hash-" + req.name()), r, null));
  }

  // ------------------------------------------------------------------ trace text

  static String goalsText(List<Goal> goals) {
    StringBuilder sb = new StringBuilder("{");
    for (Goal g : goals) {
      if (sb.length() > 1) sb.append(", ");
      sb.append(g.nodeId()).append(':').append(g.state());
    }
    return sb.append('}').toString();
  }

  private static String brief(FormationEvent e) {
    if (e instanceof FormationEvent.TermRaised t) return "term " + t.term() + ": " + t.reason();
    if (e instanceof FormationEvent.NodeRegistered r) return r.nodeId() + " " + r.name();
    if (e instanceof FormationEvent.NodeRemoved r) return r.nodeId() + " " + r.reason();
    if (e instanceof FormationEvent.FormationSettingsChanged s) return s.settings().toString();
    if (e instanceof FormationEvent.NodeSettingsChanged s) return s.nodeId() + " " + s.settings();
    return "";
  }
}
