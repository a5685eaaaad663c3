package io.pgwarden.sim;

import io.pgwarden.controller.core.Formation;
import io.pgwarden.controller.core.Input;
import io.pgwarden.controller.core.Member;
import io.pgwarden.controller.core.Outcome;
import io.pgwarden.keeper.Action;
import io.pgwarden.keeper.Grant;
import io.pgwarden.keeper.Persisted;
import io.pgwarden.model.FormationEvent;
import io.pgwarden.model.NodeEvent;
import io.pgwarden.model.NodeState;
import io.pgwarden.sim.Wal.Commit;
import io.pgwarden.sim.Wal.Timeline;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;

/**
 * The invariants, checked as the run goes (each at the event that could break it) and at its end.
 *
 * <ol>
 *   <li>No node acknowledges a commit after another node has acknowledged its first write of a newer
 *       term. A term's writes are those of one timeline instance (one promotion, one writer); its
 *       "first write" is the first commit acknowledged on it.</li>
 *   <li>No commit acknowledged at on or remote_apply (the client saw the acknowledgement, and it was not
 *       a cancelled wait) is ever lost. Other losses only where the formation allowed them, each with its
 *       bytes in the journal (a rewind or clone's Rewound event), or an unflushed synchronous_commit=off
 *       commit lost in a crash (PostgreSQL's own contract).</li>
 *   <li>Once faults stop, the group converges within {@link SimConfig#CONVERGE_MS} to one primary and
 *       all others secondary (goal and reached state, PostgreSQL streaming), stays there, and takes
 *       writes. And during faults: a primary whose host dies while everything else is healthy is
 *       replaced within {@link #FAILOVER_BOUND_MS}.</li>
 *   <li>Terms and (term, seq) only grow — the controller's within an incarnation, each keeper's
 *       persisted ones always; no keeper runs an order not newer than the one it executed, nor promotes
 *       on an expired permit (or lease).</li>
 *   <li>Replaying the journal gives the state the controller holds.</li>
 * </ol>
 */
final class Invariants {
  static final long FAILOVER_BOUND_MS = 12_000;
  /** Converged this long, with writes acknowledged meanwhile, ends the run. */
  static final long STABLE_MS = 10_000;

  record Violation(String invariant, String detail, long atUs) {}

  private final World w;
  private Violation first;
  // (1)
  private final TreeMap<Integer, Long> eraFirstAck = new TreeMap<>();
  private final TreeMap<Integer, Commit> eraFirstCommit = new TreeMap<>();
  private Timeline latestEra;
  private long latestEraStart = -1;
  // (2)
  private final List<Commit> mustKeep = new ArrayList<>();
  final List<long[]> operatorDrops = new ArrayList<>(); // {host index, time}
  // (3)
  private boolean stopped;
  private long stoppedAt;
  private long convergedAt = -1;
  private long acksAtConverged;
  int faultStarts;

  Invariants(World w) {
    this.w = w;
  }

  boolean failed() {
    return first != null;
  }

  Violation violation() {
    return first;
  }

  void violation(String invariant, String detail) {
    if (first == null) {
      first = new Violation(invariant, detail, w.now);
      w.trace("VIOLATION", invariant + ": " + detail);
    }
  }

  void start() {
  }

  // ------------------------------------------------------------------ (1) and (2): acknowledgements

  private long maxTerm = -1;
  private int maxTermNode = -1;
  private long maxTermFirstAck;

  void acknowledged(SimPg pg, Commit c) {
    // the term this write belongs to: that of the writable goal its node's keeper moved to
    long term = pg.node.keeper.writableTerm;
    c.outsideFormation = pg.node.nodeId == 0 || w.ctl.f.member(pg.node.nodeId).isEmpty();
    c.underGoal = pg.node.keeper.goalStamp;
    boolean newTerm = term > maxTerm;
    if (newTerm) {
      maxTerm = term;
      maxTermNode = pg.node.index;
      maxTermFirstAck = w.now;
    }
    Long firstAck = eraFirstAck.get(c.tl.uid);
    if (firstAck == null) {
      eraFirstAck.put(c.tl.uid, w.now);
      eraFirstCommit.put(c.tl.uid, c);
      latestEra = c.tl;
      latestEraStart = w.now;
      w.trace("pg" + pg.node.index, "first write acknowledged on timeline " + c.tl + " in term " + term + ": " + c);
      for (Commit k : mustKeep) checkKept(k, c);
    }
    if (!newTerm && (term < maxTerm || pg.node.index != maxTermNode)) {
      // Open design finding (docs/simulation.md): the lease is enforced by the keeper process; one that is
      // paused or dead cannot fence its PostgreSQL when the lease ends.
      // (or frozen with its host: it has not run for more than a tick, so it could not fence yet)
      boolean keeperDown = !pg.node.keeper.proc.running() || w.now - pg.node.keeper.lastStepUs > 150_000;
      violation(keeperDown ? "1-split-brain-keeper-down" : "1-split-brain", "node " + pg.node + " acknowledged "
          + c + (keeperDown ? " (its keeper " + (!pg.node.keeper.proc.alive ? "dead" : "has not run for "
          + (w.now - pg.node.keeper.lastStepUs) / 1000 + " ms") + ")" : "")
          + " on timeline " + c.tl + " in term " + term + " after node" + maxTermNode + " had acknowledged its first"
          + " write of term " + maxTerm + " " + ms(w.now - maxTermFirstAck) + " earlier");
    }
  }

  void clientSaw(Commit c) {
    if (!c.mustSurvive()) return;
    mustKeep.add(c);
    // eras that began after this commit was acknowledged must hold it
    for (var e : eraFirstAck.entrySet()) {
      if (e.getValue() > c.ackedAtUs) checkKept(c, eraFirstCommit.get(e.getKey()));
    }
  }

  private void checkKept(Commit k, Commit eraFirst) {
    if (k.ackedAtUs > w.now || Wal.holds(eraFirst.tl, eraFirst.lsnEnd, k)) return;
    if (lossAllowed(k)) return;
    if (k.underGoal != null && !journaled(k.underGoal)) {
      // Open finding: the decision its node wrote under (typically one that weakened the quorum, primary
      // to wait_primary) was lost with the journal's tail, and the controller decided from an older quorum.
      violation("2-loss-after-journal-tail-loss", k + " (acknowledged at " + k.level + " under goal "
          + k.underGoal + ", which the journal lost) is not in timeline " + eraFirst.tl
          + ", on which writes were acknowledged from " + eraFirst);
      return;
    }
    violation("2-acknowledged-commit-lost", k + " (acknowledged at " + k.level + ", seen by its client) is not in"
        + " timeline " + eraFirst.tl + ", on which writes were acknowledged from " + eraFirst
        + (k.discardedBy != null ? "; discarded by " + k.discardedBy : ""));
  }

  private boolean journaled(io.pgwarden.model.TermSeq stamp) {
    for (FormationEvent e : w.ctl.journal) {
      if (e instanceof FormationEvent.Decided d && d.stamp().equals(stamp)) return true;
    }
    return false;
  }

  /** An acknowledged on/remote_apply commit may be lost only by a failover the formation allowed to lose data. */
  private boolean lossAllowed(Commit k) {
    // acknowledged by a node the operator had already dropped (by force: its keeper could not confirm):
    // outside the formation, its data is the operator's to lose; beside a primary it is a split brain (1)
    if (k.outsideFormation) return true;
    for (long[] d : operatorDrops) {
      if (d[0] == k.node && d[1] >= k.ackedAtUs) return true;
    }
    for (FormationEvent e : w.ctl.journal) {
      if (e instanceof FormationEvent.Decided d && d.inputs() != null && d.inputs().walAtRiskBytes() != null
          && d.inputs().walAtRiskBytes() > 0) {
        return true;
      }
    }
    return false;
  }

  void timelineCreated(SimPg pg, Timeline tl) {
  }

  void fenced(SimNode n) {
  }

  // ------------------------------------------------------------------ (4) orders, permits, stamps

  void persisted(SimNode n, Persisted before, Persisted after) {
    if (after.executed().compareTo(before.executed()) < 0) {
      violation("4-stamp-went-back", "node " + n + " persisted executed " + after.executed() + " after "
          + before.executed());
    }
    if (after.knownTerm() < before.knownTerm()) {
      violation("4-term-went-back", "node " + n + " persisted term " + after.knownTerm() + " after "
          + before.knownTerm());
    }
  }

  void runSteps(SimNode n, Action.RunSteps rs, Persisted disk) {
    if (!rs.stamp().isNewerThan(disk.executed())) {
      violation("4-older-order", "node " + n + " runs " + rs.from() + "->" + rs.to() + " of " + rs.stamp()
          + " though it executed " + disk.executed());
    }
  }

  void promoteBegins(SimKeeper k, Action.RunSteps rs) {
    long mono = k.mono();
    long wall = k.wall();
    boolean permitRow = rs.to() == NodeState.STOP_REPLICATION;
    Grant g = permitRow ? k.truePermit : k.trueLease;
    if (g == null || !g.validAt(mono, wall)) {
      violation("4-expired-permit", "node " + k.node + " promotes (" + rs.from() + "->" + rs.to() + " " + rs.stamp()
          + ") without a valid " + (permitRow ? "permit" : "lease") + ": " + (g == null ? "none this incarnation"
          : "it ended " + -g.remainingMs(mono, wall) + " ms ago"));
    }
  }

  // ------------------------------------------------------------------ the controller: (4) and (5)

  void decisionOutcome(SimController ctl, Input in, Outcome o) {
    if (o.events().isEmpty()) return;
    long decided = 0;
    for (FormationEvent e : o.events()) {
      if (e instanceof FormationEvent.Decided) decided++;
    }
    if (decided >= 12) {
      violation("3-rules-oscillate", decided + " decisions for one " + in.getClass().getSimpleName());
    }
    // writes move only once every other node's lease has certainly expired, or it reported itself stopped
    // under a goal that is not writable (the mechanism of invariant 1, checked at the decision)
    Formation f = ctl.f;
    long mono = ctl.now().mono();
    for (FormationEvent e : o.events()) {
      if (e instanceof FormationEvent.Decided d && !w.cfg.bugs().contains(Bugs.GOALS_PER_NODE)) {
        for (io.pgwarden.model.Goal g : d.goals()) {
          Member before = f.member(g.nodeId()).orElse(null);
          if (before == null || !g.state().canTakeWrites() || before.goalState().canTakeWrites()) continue;
          for (Member other : f.members().values()) {
            if (other.nodeId() == g.nodeId()) continue;
            Long grant = o.observations().of(other.nodeId()).lastGrantMono();
            if (grant == null || mono - grant >= w.cfg.timing().leaseCertainlyExpiredAfterMs()) continue;
            io.pgwarden.model.NodeReport r = o.observations().of(other.nodeId()).report();
            boolean stopped = r != null && !other.goalState().canTakeWrites() && (!r.pg().alive() || r.inRecovery())
                && r.executed().compareTo(other.goal().stamp()) >= 0;
            if (!stopped) {
              violation("1-writes-moved-under-lease", d.rule() + " " + d.stamp() + " made node " + g.nodeId() + " "
                  + g.state() + " while node " + other.nodeId() + " may still hold the lease granted " + (mono - grant)
                  + " ms ago");
            }
          }
        }
      }
      f = f.apply(e);
    }
    int writable = 0;
    for (Member m : o.formation().active()) {
      if (m.goalState().canTakeWrites()) writable++;
    }
    if (writable > 1 && !w.cfg.bugs().contains(Bugs.GOALS_PER_NODE)) {
      violation("1-two-writable-goals", writable + " nodes have a writable goal: " + goals(o.formation()));
    }
  }

  void journalMatches(SimController ctl, Formation replayed) {
    if (!ctl.f.equals(replayed)) {
      violation("5-journal-replay", "replaying the journal gives " + replayed + " but the controller holds " + ctl.f);
    }
  }

  // ------------------------------------------------------------------ (3) liveness

  /** A primary's host died: if nothing else is wrong, a failover must start within the bound. */
  void primaryHostDied(SimNode n) {
    SimController c = w.ctl;
    if (stopped || !c.proc.running() || c.f == null || c.f.failover() != null) return;
    long uptimeMs = (w.now - c.startedAtUs) / 1000;
    if (uptimeMs < w.cfg.timing().startupGraceMs() + 1_000) return;
    Member p = c.f.member(n.nodeId).orElse(null);
    if (p == null || p.goalState() != NodeState.PRIMARY || n.keeper.disk.current() != NodeState.PRIMARY) return;
    var q = c.f.confirmedQuorum();
    if (q.primaryId() != n.nodeId || !q.synchronous()) return;
    boolean candidate = false;
    for (Member m : c.f.active()) {
      if (m.nodeId() == n.nodeId) continue;
      SimNode s = w.nodeById(m.nodeId());
      if (s == null || m.goalState() != NodeState.SECONDARY || s.keeper.disk.current() != NodeState.SECONDARY
          || !s.keeper.proc.running() || !s.pg.answering() || !q.members().contains(m.nodeId())) {
        return;
      }
      candidate |= m.settings().promotable();
    }
    if (!candidate || w.net.anyFault() || w.faults.active > 1) return;
    int startsBefore = faultStarts;
    long t0 = w.now;
    w.after(FAILOVER_BOUND_MS * 1000, () -> {
      if (faultStarts != startsBefore || n.host.up || w.net.anyFault() || !c.proc.running()
          || (w.now - c.startedAtUs) < (w.now - t0)) {
        return;
      }
      Member again = c.f.member(n.nodeId).orElse(null);
      if (again != null && again.goalState().canTakeWrites()) {
        violation("3-no-failover", "primary " + n + " has been powered off for " + FAILOVER_BOUND_MS
            + " ms with its synchronous standbys healthy, and is still assigned " + again.goalState() + ": "
            + goals(c.f));
      }
    });
  }

  void faultsStopped() {
    stopped = true;
    stoppedAt = w.now;
    w.after(1_000_000, this::checkConvergence); // what the end of the faults resumed acts first
  }

  private void checkConvergence() {
    if (failed()) return;
    String why = notConverged();
    if (why == null) {
      if (convergedAt < 0) {
        convergedAt = w.now;
        acksAtConverged = w.clients.acks;
        w.trace("sim", "converged " + ms(w.now - stoppedAt) + " after the faults stopped: " + goals(w.ctl.f));
      } else if (w.now - convergedAt >= STABLE_MS * 1000 && w.clients.acks > acksAtConverged) {
        w.finishEarly(); // converged, stayed so, and takes writes: the rest of the window adds nothing
        return;
      }
    } else {
      if (convergedAt >= 0) {
        violation("3-left-converged-state", "after converging, " + why);
        return;
      }
      if (w.now - stoppedAt > w.cfg.settleMs() * 1000) {
        violation("3-no-convergence", "not converged " + ms(w.now - stoppedAt) + " after the faults stopped: " + why);
        return;
      }
    }
    w.after(500_000, this::checkConvergence);
  }

  /** Null when converged, else why not. */
  String notConverged() {
    SimController c = w.ctl;
    if (!c.proc.alive) return "the controller is not running";
    Formation f = c.f;
    if (f.failover() != null) return "a failover is in progress (" + f.failover().kind() + ")";
    if (w.operator.inMaintenance > 0 || w.operator.droppedOut > 0) return "the operator is still at work";
    SimNode primary = null;
    for (Member m : f.active()) {
      SimNode n = w.nodeById(m.nodeId());
      if (n == null) return "node " + m.nodeId() + " has no host";
      if (!n.keeper.proc.running()) return n + "'s keeper is not running";
      NodeState reached = n.keeper.disk.current();
      if (m.goalState().canTakeWrites()) {
        if (primary != null) return "two writable goals";
        primary = n;
        if (reached != m.goalState()) return n + " reached " + reached + ", goal " + m.goalState();
        if (!n.pg.writable()) return n + "'s PostgreSQL is not a running primary";
      } else if (m.goalState() != NodeState.SECONDARY || reached != NodeState.SECONDARY) {
        return n + " is " + reached + " with goal " + m.goalState();
      }
    }
    if (primary == null) return "no primary: " + goals(f);
    for (Member m : f.active()) {
      SimNode n = w.nodeById(m.nodeId());
      if (n == primary) continue;
      if (!n.pg.up() || !n.pg.inRecovery || n.pg.rx == null || !n.pg.rx.streaming
          || n.pg.rx.upstream != primary.nodeId) {
        return n + " does not stream from " + primary;
      }
    }
    return null;
  }

  /** The end of the run: still converged, writes flowing, and no acknowledged commit lost. */
  void finish() {
    if (failed()) return;
    if (convergedAt < 0) {
      violation("3-no-convergence", "never converged: " + notConverged());
      return;
    }
    String why = notConverged();
    if (why != null) {
      violation("3-left-converged-state", why);
      return;
    }
    if (w.clients.acks == acksAtConverged) {
      violation("3-no-writes", "converged " + ms(convergedAt - stoppedAt) + " after the faults stopped, but no"
          + " write was acknowledged since");
      return;
    }
    SimNode primary = null;
    for (SimNode n : w.nodes) {
      if (n.pg.writable()) primary = n;
    }
    if (primary == null) return;
    for (Commit k : mustKeep) {
      if (!Wal.holds(primary.pg.tl, primary.pg.written, k) && !lossAllowed(k)) {
        violation("2-acknowledged-commit-lost", k + " is not on the final primary " + primary + " ("
            + primary.pg.tl + ")" + (k.discardedBy != null ? "; discarded by " + k.discardedBy : ""));
        return;
      }
    }
    for (Commit k : w.commits) {
      if (k.ackedAtUs < 0 || k.mustSurvive() || Wal.holds(primary.pg.tl, primary.pg.written, k)) continue;
      if (k.lostInCrash && k.level.equals("off")) continue;
      if (droppedAfter(k)) continue;
      if (k.discardStamp == null) {
        violation("2-loss-not-journaled", k + " (acknowledged" + (k.clientSaw ? ", seen by its client" : "")
            + ") is lost" + (k.discardedBy != null ? " by " + k.discardedBy : "") + " with no rewind journaled");
        return;
      }
      if (!journaledRewind(k)) {
        violation("2-loss-not-journaled", k + " was discarded by " + k.discardedBy + " but no Rewound event with"
            + " stamp " + k.discardStamp + " reached the journal");
        return;
      }
    }
    Formation replay = SimController.fold(w.ctl.journal);
    if (w.ctl.proc.alive && !w.cfg.bugs().contains(Bugs.GOALS_PER_NODE) && !replay.equals(w.ctl.f)) {
      violation("5-journal-replay", "the full replay differs from the controller's state");
    }
  }

  /** The operator dropped the node that held it (its data directory is then the operator's to lose). */
  private boolean droppedAfter(Commit k) {
    for (long[] d : operatorDrops) {
      if (d[0] == k.node) return true;
    }
    return false;
  }

  private boolean journaledRewind(Commit k) {
    for (Outcome.NodeNote n : w.ctl.nodeJournal) {
      if (n.nodeId() == k.discardNode && n.event() instanceof NodeEvent.Rewound r
          && r.rejoin().stamp().equals(k.discardStamp) && r.rejoin().bytesDiscarded() > 0) {
        return true;
      }
    }
    return false;
  }

  static String goals(Formation f) {
    StringBuilder sb = new StringBuilder();
    for (Member m : f.members().values()) {
      if (sb.length() > 0) sb.append(' ');
      sb.append(m.nodeId()).append('=').append(m.goalState());
    }
    return sb.toString();
  }

  private static String ms(long us) {
    return String.format(Locale.ROOT, "%.1f s", us / 1_000_000.0);
  }
}
