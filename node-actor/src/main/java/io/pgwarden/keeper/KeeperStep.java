package io.pgwarden.keeper;

import io.pgwarden.model.NodeState;
import io.pgwarden.model.PgStatus;
import io.pgwarden.model.ReportReply;
import io.pgwarden.model.TermSeq;
import java.util.List;

/**
 * The keeper's step function: {@code step(state, event, nowMono, nowWall) → (state, actions)}. Pure: it
 * reads no clock (time comes in as arguments, monotonic and wall), does no I/O and keeps no hidden
 * state, so the deterministic simulator drives exactly this code and the actor shell only moves events
 * and actions.
 *
 * <p>After the event itself is taken in, every call runs the same checks in the same order: fence a
 * PostgreSQL that may write without authority; renew the lease through peers when the controller is
 * unreachable; drive the transition; ensure the current state; report.
 */
public final class KeeperStep {
  private final KeeperConfig cfg;

  public KeeperStep(KeeperConfig cfg) {
    this.cfg = cfg;
  }

  public KeeperConfig config() {
    return cfg;
  }

  public record Result(KeeperState state, List<Action> actions) {
    public <A extends Action> List<A> actions(Class<A> type) {
      return actions.stream().filter(type::isInstance).map(type::cast).toList();
    }
  }

  public Result step(KeeperState state, Event event, long nowMono, long nowWall) {
    Run r = new Run(cfg, state, nowMono, nowWall);
    if (event instanceof Event.KeeperStarted k) {
      started(r, k.persisted());
    } else if (!r.s.started) {
      return new Result(state, List.of());
    } else {
      take(r, event);
    }
    Safety.fenceIfUnauthorized(r);
    Failsafe.renewThroughPeers(r);
    Transitions.drive(r);
    EnsureState.ensure(r);
    Reports.sendIfDue(r);
    return new Result(r.s.build(), List.copyOf(r.out));
  }

  private static void take(Run r, Event event) {
    if (event instanceof Event.Tick) {
      return;
    } else if (event instanceof Event.FactsRead f) {
      facts(r, f.facts());
    } else if (event instanceof Event.ReplyReceived rr) {
      reply(r, rr.reply(), rr.sentMono(), rr.sentWall());
    } else if (event instanceof Event.ReportFailed rf) {
      r.s.reporting = r.s.reporting.failed(rf.sentMono());
      Transitions.onReportFailed(r, rf.sentMono());
    } else if (event instanceof Event.TransitionFinished tf) {
      Transitions.onFinished(r, tf);
    } else if (event instanceof Event.PeerConfirmation pc) {
      Failsafe.onConfirmation(r, pc);
    } else if (event instanceof Event.PeerPromiseRequest pr) {
      Failsafe.onPromiseRequest(r, pr);
    } else {
      throw new IllegalArgumentException("unknown event " + event);
    }
  }

  /**
   * A (re)start: only the persisted state survives. No lease (no writable start on local memory). A
   * promise given just before the crash was never written down, so one is assumed outstanding — unless
   * the node had reached a writable state: it got there through a gate that waited out every promise,
   * and a candidate never promises.
   */
  private static void started(Run r, Persisted p) {
    KeeperState.Builder s = KeeperState.initial().toBuilder();
    s.started = true;
    s.startedMono = r.mono;
    s.node = p;
    s.currentSinceMono = r.mono;
    if (!p.executed().equals(TermSeq.NONE) && !p.current().canTakeWrites()) {
      s.promise = new Promise(0, r.mono + r.cfg.promiseMs(), r.wall + r.cfg.promiseMs());
    }
    s.reporting = s.reporting.urgent("keeper started");
    r.s = s;
  }

  /**
   * A hung server answers nothing: keep the last known recovery status rather than assume one. A server
   * last seen stopped that does not answer yet is starting up (it takes no connection, so no write, until
   * it answers): it comes up as a standby unless the keeper is in, or moving to, a writable state — so a
   * standby being started is not taken for a writable server and fenced. A server found hung with nothing
   * known of it may be a frozen primary: it still counts as possibly writable.
   */
  private static void facts(Run r, PgFacts f) {
    PgFacts before = r.s.facts;
    if (f.pg() == PgStatus.HUNG && before != null) {
      boolean starting = !before.pg().alive();
      boolean writableTarget = r.current().canTakeWrites()
          || r.s.transition != null && r.s.transition.to().canTakeWrites();
      f = f.withInRecovery(starting ? !writableTarget : before.inRecovery());
    }
    r.s.facts = f;
  }

  private static void reply(Run r, ReportReply reply, long sentMono, long sentWall) {
    KeeperState.Builder s = r.s;
    if (reply.goal() != null && reply.goal().nodeId() != r.cfg.nodeId()) {
      r.error("the controller answered with the goal of node " + reply.goal().nodeId() + ", not " + r.cfg.nodeId());
      return;
    }
    s.reporting = s.reporting.answered(sentMono, r.mono);
    if (s.fencing.fencedAtMono() != null && sentMono >= s.fencing.fencedAtMono()) {
      s.fencing = new KeeperState.Fencing(null, s.fencing.lastFenceMono()); // the controller has heard it
    }
    long term = reply.term();
    if (reply.goal() != null) term = Math.max(term, reply.goal().stamp().term());
    if (reply.lease() != null) term = Math.max(term, reply.lease().term());
    r.learnTerm(term);
    if (sentMono >= s.lastReplySentMono) {
      s.lastReply = reply;
      s.lastReplySentMono = sentMono;
    }
    if (reply.goal() != null && (s.goal == null || reply.goal().stamp().isNewerThan(s.goal.stamp()))) {
      s.goal = reply.goal();
    }
    // Leases and permits count from the send: the controller granted them after that moment.
    if (reply.lease() != null && reply.lease().durationMs() > 0) {
      s.lease = Grant.newest(s.lease, new Grant(sentMono, sentWall, reply.lease().durationMs()));
    }
    if (reply.goal() != null && reply.goal().state() == NodeState.STOP_REPLICATION && reply.permitMs() > 0) {
      s.permit = Grant.newest(s.permit, new Grant(sentMono, sentWall, reply.permitMs()));
    }
    Transitions.onReply(r, reply, sentMono, sentWall);
    if (r.current() == NodeState.DROPPED && !s.leaving && reply.goal() != null
        && reply.goal().state() == NodeState.DROPPED && sentMono >= s.currentSinceMono) {
      s.leaving = true;
      r.emit(new Action.LeaveFormation());
    }
  }
}
