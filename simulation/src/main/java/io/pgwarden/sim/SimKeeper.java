package io.pgwarden.sim;

import io.pgwarden.keeper.Action;
import io.pgwarden.keeper.Event;
import io.pgwarden.keeper.Grant;
import io.pgwarden.keeper.KeeperConfig;
import io.pgwarden.keeper.KeeperState;
import io.pgwarden.keeper.KeeperStep;
import io.pgwarden.keeper.Persisted;
import io.pgwarden.keeper.PgFacts;
import io.pgwarden.keeper.Step;
import io.pgwarden.keeper.StepContext;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.PeerInfo;
import io.pgwarden.model.RejoinInfo;
import io.pgwarden.model.ReportReply;
import io.pgwarden.sim.Wal.Commit;
import java.util.List;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The keeper process: the shell around the real {@link KeeperStep} (ticks, facts reads, reports over
 * HTTP, peer confirmations) and the executor, which runs each {@link Step} on the simulated PostgreSQL,
 * taking simulated time and sometimes failing. Only {@link Persisted} survives a crash.
 */
final class SimKeeper {
  static final long TICK_MS = 100;
  static final long FACTS_MS = 500;
  static final long PROBE_MS = 500;
  private static final long[] DEBUG = debug();

  private static long[] debug() {
    String d = System.getProperty("sim.debug"); // node,fromMs,toMs
    if (d == null || d.isBlank()) return null;
    String[] p = d.split(",");
    return new long[] {Long.parseLong(p[0]), Long.parseLong(p[1]), Long.parseLong(p[2])};
  }

  final World w;
  final SimNode node;
  final Proc proc;
  KeeperStep core;
  KeeperState state;
  Persisted disk = Persisted.NEW;
  boolean left;
  private boolean reading;
  private Long probeOkMono;
  private boolean probing;
  private long requestIds;
  private final TreeMap<Long, Net.Responder> peerRequests = new TreeMap<>();
  private long execGen;
  // the grants the controller really sent this incarnation (unperturbed), for invariant 4
  Grant trueLease;
  Grant truePermit;
  long lastStepUs;
  /** The term of the writable goal this node last moved to or reached (the term its writes belong to). */
  long writableTerm;
  /** The newest goal this keeper has begun to execute (a transition in progress counts). */
  io.pgwarden.model.TermSeq goalStamp = io.pgwarden.model.TermSeq.NONE;

  SimKeeper(World w, SimNode node) {
    this.w = w;
    this.node = node;
    this.proc = new Proc(w, node.host, "keeper" + node.index);
  }

  long mono() {
    return node.host.clock.monoMs(w.now);
  }

  long wall() {
    return node.host.clock.wallMs(w.now);
  }

  private void trace(String what) {
    w.trace("keeper" + node.index, what);
  }

  // ------------------------------------------------------------------ life

  void start() {
    if (left || node.nodeId == 0) return;
    proc.start();
    core = new KeeperStep(KeeperConfig.of(node.nodeId, w.cfg.timing()));
    state = KeeperState.initial();
    reading = false;
    probing = false;
    probeOkMono = null;
    peerRequests.clear();
    trueLease = null;
    truePermit = null;
    execGen++;
    trace("started: " + disk.current() + " executed " + disk.executed() + " term " + disk.knownTerm());
    step(new Event.KeeperStarted(disk));
    proc.timer(w.rng.between(1, TICK_MS), this::tick);
    proc.timer(w.rng.between(1, FACTS_MS), this::readFacts);
    proc.timer(w.rng.between(1, PROBE_MS), this::probe);
  }

  void crash(String why) {
    if (!proc.alive) return;
    proc.kill();
    execGen++;
    trace("crashed: " + why);
  }

  private void tick() {
    step(new Event.Tick());
    proc.timer(TICK_MS + w.rng.between(0, 4), this::tick);
  }

  private void readFacts() {
    proc.timer(FACTS_MS, this::readFacts);
    if (reading) return;
    reading = true;
    factsNow(() -> reading = false);
  }

  /** A standby's own probe of the primary it follows: the second observer. */
  private void probe() {
    proc.timer(PROBE_MS, this::probe);
    if (probing || state == null || state.lastReply() == null || state.lastReply().upstream() == null) return;
    if (state.current().canTakeWrites()) return;
    SimNode target = w.nodeById(state.lastReply().upstream().nodeId());
    if (target == null || target == node) return;
    probing = true;
    long inc = proc.incarnation;
    Net.Link l = w.net.path(node.host, target.host);
    long rtt = 2 * w.net.latency(node.host, target.host);
    boolean ok = l == Net.Link.OPEN && w.net.path(target.host, node.host) == Net.Link.OPEN && target.pg.answering();
    long took = ok ? rtt + w.rng.between(300, 2_000) : l == Net.Link.OPEN && target.host.up && !target.pg.proc.alive
        || l == Net.Link.RESET ? rtt : 500_000;
    proc.post(took, () -> {
      if (proc.incarnation != inc) return;
      probing = false;
      if (ok && target.pg.answering()) probeOkMono = mono();
    });
  }

  // ------------------------------------------------------------------ the step function

  void step(Event e) {
    if (!proc.alive || core == null) return;
    lastStepUs = w.now;
    long mono = mono();
    long wall = wall();
    KeeperStep.Result r;
    try {
      r = core.step(state, e, mono, wall);
    } catch (RuntimeException ex) {
      w.inv.violation("keeper-core-threw", "node " + node.nodeId + " step(" + e.getClass().getSimpleName()
          + ") threw " + ex);
      return;
    }
    state = r.state();
    io.pgwarden.model.TermSeq acting = state.transition() != null ? state.transition().stamp()
        : state.node().executed();
    if (acting.isNewerThan(goalStamp)) goalStamp = acting;
    if (state.transition() != null && state.transition().to().canTakeWrites()) {
      writableTerm = Math.max(writableTerm, state.transition().stamp().term());
    } else if (state.current().canTakeWrites()) {
      writableTerm = Math.max(writableTerm, state.node().executed().term());
    }
    if (DEBUG != null && node.index == DEBUG[0] && w.now > DEBUG[1] * 1000 && w.now < DEBUG[2] * 1000) {
      trace("DEBUG " + e.getClass().getSimpleName() + " tr=" + state.transition() + " lease=" + state.lease()
          + " remaining=" + (state.lease() == null ? 0 : state.lease().remainingMs(mono, wall)) + " promise="
          + state.promise() + " facts=" + (state.facts() == null ? null : state.facts().pg()) + " ensuring="
          + state.ensuring() + " actions=" + r.actions());
    }
    w.stats.keeperState(state.current());
    for (Action a : r.actions()) act(a);
  }

  private void act(Action a) {
    if (a instanceof Action.SendReport s) {
      report(s);
    } else if (a instanceof Action.RunSteps rs) {
      run(rs);
    } else if (a instanceof Action.FencePostgres f) {
      trace("FENCE: " + f.reason());
      w.inv.fenced(node);
      SimPg pg = node.pg;
      long ms = pg.proc.alive && pg.proc.paused ? 1_000 : w.rng.between(5, 40);
      w.onHost(node.host, ms * 1000, () -> pg.crash("fenced: immediate stop"));
    } else if (a instanceof Action.StartPostgres s) {
      trace("ensure start" + (s.readOnly() ? " (read-only)" : ""));
      node.pg.start(s.readOnly(), err -> {
        if (err != null) trace("ensure start failed: " + err);
      });
    } else if (a instanceof Action.StopPostgres s) {
      trace("ensure stop: " + s.reason());
      node.pg.stopFast(err -> { });
    } else if (a instanceof Action.MaintainPeers m) {
      if (node.pg.up()) setSlots(m.peers());
    } else if (a instanceof Action.AskPeers ask) {
      askPeers(ask);
    } else if (a instanceof Action.AnswerPeer ans) {
      Net.Responder r = peerRequests.remove(ans.requestId());
      if (r != null) r.reply(ans);
    } else if (a instanceof Action.PersistState p) {
      w.inv.persisted(node, disk, p.state());
      if (p.state().current() != disk.current()) {
        w.stats.transitionDone(disk.current(), p.state().current());
        trace("reached " + p.state().current() + " (" + p.state().executed() + ")");
      }
      disk = p.state();
    } else if (a instanceof Action.ReportError err) {
      trace("error " + err.stamp() + ": " + err.detail());
    } else if (a instanceof Action.LeaveFormation) {
      trace("leaves the formation");
      left = true;
      proc.kill();
    }
  }

  private void setSlots(List<PeerInfo> peers) {
    node.pg.slots.clear();
    for (PeerInfo p : peers) {
      if (p.nodeId() != node.nodeId && p.goal() != NodeState.DROPPED) node.pg.slots.add(p.nodeId());
    }
  }

  // ------------------------------------------------------------------ talking to the controller and peers

  private void report(Action.SendReport s) {
    long timeoutUs = (s.waitMs() + 1_500) * 1000;
    int id = node.nodeId;
    w.net.call(proc, w.ctl.proc, timeoutUs,
        r -> w.ctl.onReport(id, s.report(), s.knownStamp(), s.waitMs(), r),
        new Net.Client() {
          @Override
          public void ok(Object reply) {
            if (reply instanceof ReportReply rr) {
              received(rr, s.sentMono(), s.sentWall());
            } else {
              step(new Event.ReportFailed(s.sentMono(), s.sentWall(), String.valueOf(reply)));
            }
          }

          @Override
          public void fail(String why) {
            step(new Event.ReportFailed(s.sentMono(), s.sentWall(), why));
          }
        });
  }

  private void received(ReportReply rr, long sentMono, long sentWall) {
    if (rr.lease() != null && rr.lease().durationMs() > 0) {
      trueLease = Grant.newest(trueLease, new Grant(sentMono, sentWall, rr.lease().durationMs()));
    }
    if (rr.goal() != null && rr.goal().state() == NodeState.STOP_REPLICATION && rr.permitMs() > 0) {
      truePermit = Grant.newest(truePermit, new Grant(sentMono, sentWall, rr.permitMs()));
    }
    step(new Event.ReplyReceived(rr, sentMono, sentWall));
  }

  private void askPeers(Action.AskPeers ask) {
    for (PeerInfo p : ask.peers()) {
      SimNode peer = w.nodeById(p.nodeId());
      if (peer == null) continue;
      int me = node.nodeId;
      w.net.call(proc, peer.keeper.proc, 400_000, r -> peer.keeper.promiseRequested(r, me, ask.term()),
          new Net.Client() {
            @Override
            public void ok(Object reply) {
              Action.AnswerPeer a = (Action.AnswerPeer) reply;
              step(new Event.PeerConfirmation(p.nodeId(), ask.round(), a.term(), a.ok(), a.reason()));
              if (a.ok() && w.cfg.bugs().contains(Bugs.RENEW_WITH_ANY_PEER)) {
                // the known bug: one confirmation is taken for all of them
                KeeperState.FailsafeRound round = state.failsafe();
                if (round != null && round.id() == ask.round()) {
                  for (int other : round.required()) {
                    if (other != p.nodeId()) {
                      step(new Event.PeerConfirmation(other, ask.round(), a.term(), true, "(bug) assumed"));
                    }
                  }
                }
              }
            }

            @Override
            public void fail(String why) {
              // no answer: the round cannot complete
            }
          });
    }
  }

  void promiseRequested(Net.Responder r, int primaryId, long term) {
    if (core == null || !proc.alive) return;
    long id = ++requestIds;
    peerRequests.put(id, r);
    step(new Event.PeerPromiseRequest(id, primaryId, term));
    peerRequests.remove(id); // answered within the step, or not at all
  }

  // ------------------------------------------------------------------ the executor

  private void run(Action.RunSteps rs) {
    long gen = ++execGen;
    w.stats.rowStarted(rs.from(), rs.to());
    trace("run " + rs.from() + "->" + rs.to() + " @" + rs.stamp() + " " + rs.steps().stream().map(Step::label)
        .toList());
    w.inv.runSteps(node, rs, disk);
    // the executor is another actor: the steps begin after a mailbox hop, or after a stall of this JVM
    long hop = w.rng.between(50, 2_000);
    if (rs.notAfterMono() != Long.MAX_VALUE && w.faults.inWindow() && w.rng.chance(0.05)) {
      long ms = w.rng.between(1_600, 2_600);
      trace("the keeper's JVM stalls for " + ms + " ms before its executor begins " + rs.to());
      proc.paused = true;
      w.at(w.now + ms * 1000, () -> {
        proc.paused = false;
        proc.resumed();
      });
    }
    proc.post(hop, () -> {
      boolean bug = w.cfg.bugs().contains(Bugs.ACT_ON_EXPIRED_PERMIT);
      if (mono() > rs.notAfterMono() && !bug) {
        finish(rs, gen, new Event.Failed("the lease or permit ended before the steps began"));
        return;
      }
      runStep(rs, 0, gen, null);
    });
  }

  private void runStep(Action.RunSteps rs, int i, long gen, RejoinInfo rejoin) {
    if (gen != execGen || !proc.alive) return;
    if (i == rs.steps().size()) {
      finish(rs, gen, new Event.Ok(rejoin));
      return;
    }
    Step st = rs.steps().get(i);
    if (w.rng.chance(0.004)) {
      proc.post(w.rng.between(1_000, 300_000), () -> finish(rs, gen, new Event.Failed(st.label()
          + ": transient failure")));
      return;
    }
    Exec ex = new Exec(this, rs, st);
    ex.run((err, rj) -> {
      if (gen != execGen) return;
      if (err != null) {
        finish(rs, gen, new Event.Failed(st.label() + ": " + err));
      } else {
        runStep(rs, i + 1, gen, rj != null ? rj : rejoin);
      }
    });
  }

  /**
   * The end of a segment. The shell reads the facts afresh first, so that the report announcing the
   * state reached does not carry facts from before the steps (a primary that just applied its quorum
   * would otherwise report the old synchronous_standby_names, and a stopped server would look running).
   */
  private void finish(Action.RunSteps rs, long gen, Event.Outcome o) {
    if (gen != execGen || !proc.alive) return;
    if (o instanceof Event.Failed f) trace("steps " + rs.from() + "->" + rs.to() + " failed: " + f.detail());
    factsNow(() -> {
      if (gen == execGen) step(new Event.TransitionFinished(rs.stamp(), o));
    });
  }

  /** One facts query now; {@code then} runs after its answer went into the step function. */
  private void factsNow(Runnable then) {
    SimPg pg = node.pg;
    boolean hangs = pg.proc.alive && pg.status != SimPg.Status.STOPPED && !pg.proc.running();
    long us = hangs ? 1_000_000 : w.rng.between(500, 4_000);
    proc.post(us, () -> {
      Long age = probeOkMono == null ? null : mono() - probeOkMono;
      PgFacts f = hangs ? new PgFacts(io.pgwarden.model.PgStatus.HUNG, false, 0, 0, null, null, "", List.of(), null,
          age) : pg.facts(age);
      step(new Event.FactsRead(f));
      then.run();
    });
  }

  /** For the executor: commits the rejoin discarded, remembered for invariant 2. */
  void discarded(List<Commit> lost, String how, io.pgwarden.model.TermSeq stamp) {
    for (Commit c : lost) {
      if (c.discardedBy == null) {
        c.discardedBy = how;
        c.discardStamp = stamp;
        c.discardNode = node.nodeId;
      }
    }
  }

  StepContext ctxOf(Action.RunSteps rs) {
    return rs.context();
  }

  interface StepDone {
    void done(String err, RejoinInfo rejoin);
  }

  /** Runs {@code r} in this keeper's process after {@code us}. */
  void later(long us, Runnable r) {
    proc.post(us, r);
  }

  void traceStep(String what) {
    trace(what);
  }

  Consumer<String> ignore() {
    return e -> { };
  }
}
