package io.pgwarden.keeper;

/**
 * This keeper's promise not to promote (nor open writes) until {@code untilMono} and {@code untilWall}
 * have both passed: given to a primary that renews its lease without the controller, and assumed after
 * every restart (a promise given just before a crash is not on disk).
 */
public record Promise(int primaryId, long untilMono, long untilWall) {

  /**
   * Outstanding until the monotonic clock says it ended. That clock only ever runs slow (by at most ρ,
   * which the promise's length covers) or stops (a suspend): both make the promise last longer in real
   * time, never shorter. The wall clock is not consulted: a step backwards would keep the promise — and
   * with it this node's ability to write or promote — outstanding for as long as the step, hours maybe.
   * {@code untilWall} is kept for the log.
   */
  public boolean activeAt(long nowMono, long nowWall) {
    return nowMono < untilMono;
  }

  public static Promise longest(Promise a, Promise b) {
    if (a == null) return b;
    if (b == null) return a;
    return new Promise(b.primaryId, Math.max(a.untilMono, b.untilMono), Math.max(a.untilWall, b.untilWall));
  }
}
