package io.pgwarden.controller.audit;

import io.pgwarden.model.Timing;

/**
 * What an audit shows.
 *
 * @param since only incidents, writable periods, findings and lane segments that reach past this instant
 *     (epoch ms; null: from the start). The whole journal is always folded, so incidents stay complete.
 * @param until only those that begin before this instant (null: to the end)
 * @param at also compute the formation's state at this instant (null: not asked)
 * @param now the instant the journal is read at, against which pending goals and states are judged
 *     (null: the last event's time)
 * @param timing the controller's timing settings: the lease bound of a writable period is computed
 *     with {@link Timing#leaseCertainlyExpiredAfterMs()} (the journal does not record timing)
 * @param goalReachBoundMs a goal still unreached this long after it was assigned is flagged
 * @param stuckBoundMs a node reporting the same intermediate state this long is flagged
 * @param lanes include every node's state history (the timeline lanes) in the report
 */
public record AuditQuery(Long since, Long until, Long at, Long now, Timing timing, long goalReachBoundMs,
    long stuckBoundMs, boolean lanes) {

  public static final long DEFAULT_GOAL_REACH_BOUND_MS = 60_000;
  public static final long DEFAULT_STUCK_BOUND_MS = 300_000;

  public AuditQuery {
    if (timing == null) timing = Timing.DEFAULT;
    if (goalReachBoundMs <= 0) throw new IllegalArgumentException("goal reach bound must be > 0 ms");
    if (stuckBoundMs <= 0) throw new IllegalArgumentException("stuck bound must be > 0 ms");
    if (since != null && until != null && until < since) {
      throw new IllegalArgumentException("until (" + until + ") is before since (" + since + ")");
    }
  }

  /** The whole journal, default timing and bounds, lanes included. */
  public static AuditQuery all() {
    return new AuditQuery(null, null, null, null, Timing.DEFAULT, DEFAULT_GOAL_REACH_BOUND_MS,
        DEFAULT_STUCK_BOUND_MS, true);
  }

  public AuditQuery since(Long t) {
    return new AuditQuery(t, until, at, now, timing, goalReachBoundMs, stuckBoundMs, lanes);
  }

  public AuditQuery until(Long t) {
    return new AuditQuery(since, t, at, now, timing, goalReachBoundMs, stuckBoundMs, lanes);
  }

  public AuditQuery at(Long t) {
    return new AuditQuery(since, until, t, now, timing, goalReachBoundMs, stuckBoundMs, lanes);
  }

  public AuditQuery now(Long t) {
    return new AuditQuery(since, until, at, t, timing, goalReachBoundMs, stuckBoundMs, lanes);
  }

  public AuditQuery timing(Timing t) {
    return new AuditQuery(since, until, at, now, t, goalReachBoundMs, stuckBoundMs, lanes);
  }

  public AuditQuery bounds(long goalReachMs, long stuckMs) {
    return new AuditQuery(since, until, at, now, timing, goalReachMs, stuckMs, lanes);
  }

  public AuditQuery lanes(boolean l) {
    return new AuditQuery(since, until, at, now, timing, goalReachBoundMs, stuckBoundMs, l);
  }

  /** True when the span [from, to] (to null: still open) reaches into the window. */
  public boolean overlaps(long from, Long to) {
    if (until != null && from > until) return false;
    return since == null || to == null || to >= since;
  }
}
