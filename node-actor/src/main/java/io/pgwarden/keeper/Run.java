package io.pgwarden.keeper;

import io.pgwarden.model.NodeState;
import io.pgwarden.model.Timing;
import java.util.ArrayList;
import java.util.List;

/** One call of the step function: the state as it evolves, the time, and the actions produced. */
final class Run {
  final KeeperConfig cfg;
  final Timing t;
  KeeperState.Builder s;
  final long mono;
  final long wall;
  final List<Action> out = new ArrayList<>();

  Run(KeeperConfig cfg, KeeperState state, long mono, long wall) {
    this.cfg = cfg;
    this.t = cfg.timing();
    this.s = state.toBuilder();
    this.mono = mono;
    this.wall = wall;
  }

  void emit(Action a) {
    out.add(a);
  }

  NodeState current() {
    return s.current();
  }

  boolean leaseValid() {
    return s.lease != null && s.lease.validAt(mono, wall);
  }

  boolean permitValid() {
    return s.permit != null && s.permit.validAt(mono, wall);
  }

  boolean promiseActive() {
    return s.promise != null && s.promise.activeAt(mono, wall);
  }

  /**
   * May this keeper let its PostgreSQL take writes (start it writable, open writes, promote into a
   * writable state) right now: a valid lease with room left for the executor to act, and no promise to
   * a primary that may still be writing.
   */
  boolean writeAuthority() {
    return leaseValid() && s.lease.remainingMs(mono, wall) > t.leaseMarginMs() && !promiseActive();
  }

  /** The monotonic deadline equivalent to the end of {@code g}, on whichever clock ends it first. */
  long deadline(Grant g) {
    return mono + Math.max(0, g.remainingMs(mono, wall));
  }

  /** No transition runs and the newest goal has been executed. */
  boolean idle() {
    return s.transition == null && (s.goal == null || !s.goal.stamp().isNewerThan(s.node.executed()));
  }

  void urgent(String why) {
    s.reporting = s.reporting.urgent(why);
  }

  void persist(Persisted p) {
    s.node = p;
    emit(new Action.PersistState(p));
  }

  /** The known term only grows; it is persisted so that a restarted keeper still refuses older terms. */
  void learnTerm(long term) {
    if (term > s.node.knownTerm()) {
      persist(new Persisted(s.node.current(), s.node.executed(), term));
    }
  }

  void error(String detail) {
    s.error = detail;
    emit(new Action.ReportError(s.goal == null ? s.node.executed() : s.goal.stamp(), detail));
    urgent("error");
  }
}
