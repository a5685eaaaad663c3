package io.pgwarden.keeper;

import io.pgwarden.model.Goal;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.ReportReply;
import io.pgwarden.model.TermSeq;
import java.util.List;
import java.util.Optional;

/**
 * Goals into transitions, one at a time. A goal runs only when its stamp is newer than the last one
 * executed; its steps go to the executor a segment at a time, the gates in between are passed here; a
 * failure retries the whole (idempotent) transition with backoff; only a complete success is persisted.
 * A newer goal for another state replaces a transition only where nothing is half done: at a gate,
 * in backoff, or when unsupported — never while the executor is running steps.
 */
final class Transitions {
  private Transitions() {}

  static void drive(Run r) {
    KeeperState.Builder s = r.s;
    Transition t = s.transition;
    Goal g = s.goal;
    if (t != null) {
      if (t.phase() == Transition.Phase.RUNNING) return;
      boolean replaced = g != null && g.stamp().isNewerThan(t.stamp()) && g.state() != t.to();
      if (!replaced) {
        resume(r, t);
        return;
      }
      s.transition = null;
      s.error = null;
    }
    if (g == null || !g.stamp().isNewerThan(s.node.executed())) return;
    if (g.state() == s.current()) {
      // the same state under a newer stamp (the controller re-stamped its goals): nothing to do
      r.persist(new Persisted(s.current(), g.stamp(), s.node.knownTerm()));
      r.urgent("adopted stamp " + g.stamp());
      return;
    }
    Optional<List<Step>> plan = TransitionPlanner.plan(s.current(), g.state());
    if (plan.isEmpty()) {
      s.transition = Transition.unsupported(g.stamp(), s.current(), g.state());
      r.error("unsupported transition " + s.current() + " -> " + g.state() + " (goal " + g.stamp() + ")");
      return;
    }
    advance(r, Transition.start(g.stamp(), s.current(), g.state(), plan.get()));
  }

  private static void resume(Run r, Transition t) {
    switch (t.phase()) {
      case BACKOFF -> {
        if (r.mono >= t.retryAtMono()) advance(r, t.restarted());
      }
      case AWAITING_LEASE, READY -> advance(r, t);
      case AWAITING_PERMIT -> permitGate(r, t);
      default -> {
        // UNSUPPORTED: wait for a goal to another state
      }
    }
  }

  /** Hand over steps up to the next gate, pass gates that are open, or stop at one that is closed. */
  private static void advance(Run r, Transition t) {
    while (true) {
      if (t.done()) {
        complete(r, t);
        return;
      }
      Step next = t.nextStep();
      if (next instanceof Step.RequireLease) {
        if (!r.writeAuthority()) {
          r.s.transition = t.phase(Transition.Phase.AWAITING_LEASE);
          return;
        }
        t = t.advancedTo(t.next() + 1, r.deadline(r.s.lease));
      } else if (next instanceof Step.ConfirmPermit) {
        r.s.transition = t.awaitingPermit(r.mono);
        return;
      } else {
        int end = t.segmentEndFromNext();
        r.emit(new Action.RunSteps(t.stamp(), t.from(), t.to(), t.steps().subList(t.next(), end), context(r),
            t.notAfterMono()));
        r.s.transition = t.running(end);
        return;
      }
    }
  }

  /**
   * Promote only on a permit confirmed by a report sent after reaching the gate, with time left for the
   * executor to act, and never while a promise to a primary is outstanding. Reports.sendIfDue sends the
   * confirmation; onReply judges the answer.
   */
  private static void permitGate(Run r, Transition t) {
    Grant p = t.confirmed();
    if (p != null) {
      if (!r.promiseActive() && p.remainingMs(r.mono, r.wall) > r.t.leaseMarginMs()) {
        advance(r, t.advancedTo(t.next() + 1, r.deadline(p)));
        return;
      }
      t = t.awaitingPermit(r.mono); // too late or blocked: confirm afresh
    } else if (t.confirmSentMono() != null && r.mono - t.confirmSentMono() > r.t.permitMs()) {
      t = t.awaitingPermit(r.mono); // no answer within a permit's validity: that one is void anyway
    }
    r.s.transition = t;
  }

  /** True when the gate wants a confirmation report sent now. */
  static boolean wantsConfirmation(Run r) {
    Transition t = r.s.transition;
    return t != null && t.phase() == Transition.Phase.AWAITING_PERMIT && t.confirmSentMono() == null
        && t.confirmed() == null && r.mono >= t.nextConfirmAtMono() && !r.promiseActive();
  }

  static void confirmationSent(Run r) {
    r.s.transition = r.s.transition.confirmationSent(r.mono);
  }

  static void onReply(Run r, ReportReply reply, long sentMono, long sentWall) {
    Transition t = r.s.transition;
    if (t == null || t.phase() != Transition.Phase.AWAITING_PERMIT || t.confirmSentMono() == null
        || sentMono < t.confirmSentMono()) {
      return;
    }
    Grant g = new Grant(sentMono, sentWall, reply.permitMs());
    String refused = null;
    if (reply.goal() == null || reply.goal().state() != NodeState.STOP_REPLICATION) {
      refused = "the goal is now " + (reply.goal() == null ? "unknown" : reply.goal().state());
    } else if (reply.permitMs() <= 0) {
      refused = "the controller granted no permit";
    } else if (!g.validAt(r.mono, r.wall)) {
      refused = "the answer came " + (r.mono - sentMono) + " ms after the report, beyond the permit's "
          + reply.permitMs() + " ms";
    }
    if (refused == null) {
      r.s.transition = t.permitConfirmed(g);
    } else {
      r.s.transition = t.awaitingPermit(r.mono + r.t.reportIntervalMs());
      r.s.error = "promotion permit not confirmed: " + refused;
    }
  }

  static void onReportFailed(Run r, long sentMono) {
    Transition t = r.s.transition;
    if (t != null && t.phase() == Transition.Phase.AWAITING_PERMIT && t.confirmSentMono() != null
        && sentMono >= t.confirmSentMono()) {
      r.s.transition = t.awaitingPermit(r.mono + r.t.reportIntervalMs());
    }
  }

  static void onFinished(Run r, Event.TransitionFinished e) {
    Transition t = r.s.transition;
    if (t == null || t.phase() != Transition.Phase.RUNNING || !t.stamp().equals(e.stamp())) return;
    Event.Outcome o = e.outcome();
    if (o instanceof Event.Ok ok) {
      if (ok.rejoin() != null) r.s.lastRejoin = ok.rejoin();
      advance(r, t.advancedTo(t.segmentEnd(), Long.MAX_VALUE));
    } else if (o instanceof Event.Failed f) {
      Transition next = t.failed(r.mono + backoff(r, t.attempts() + 1));
      r.s.transition = next;
      r.error("transition " + t.from() + " -> " + t.to() + " failed (attempt " + next.attempts() + ", retry in "
          + (next.retryAtMono() - r.mono) + " ms): " + f.detail());
    } else if (o instanceof Event.Unsupported u) {
      r.s.transition = t.phase(Transition.Phase.UNSUPPORTED);
      r.error("transition " + t.from() + " -> " + t.to() + " cannot be done here: " + u.detail());
    }
  }

  private static long backoff(Run r, int attempt) {
    long d = r.cfg.retryBaseMs();
    for (int i = 1; i < attempt && d < r.cfg.retryMaxMs(); i++) d *= 2;
    return Math.min(d, r.cfg.retryMaxMs());
  }

  /** Every step succeeded: persist the new state, and only now. */
  private static void complete(Run r, Transition t) {
    KeeperState.Builder s = r.s;
    TermSeq stamp = t.stamp();
    if (s.goal != null && s.goal.state() == t.to() && s.goal.stamp().isNewerThan(stamp)) stamp = s.goal.stamp();
    r.persist(new Persisted(t.to(), stamp, s.node.knownTerm()));
    s.transition = null;
    s.error = null;
    s.currentSinceMono = r.mono;
    if (!t.to().canTakeWrites()) s.lease = null; // a lease means nothing outside a writable state
    if (t.to() != NodeState.STOP_REPLICATION) s.permit = null;
    s.ensuring = s.ensuring.forNewState();
    r.urgent("reached " + t.to());
  }

  private static StepContext context(Run r) {
    ReportReply rep = r.s.lastReply;
    if (rep == null) return StepContext.EMPTY;
    return new StepContext(rep.upstream(), rep.fastForwardTo(), rep.syncStandbyNames(), rep.peers(),
        rep.formationSettings() == null ? null : rep.formationSettings().dbname());
  }
}
