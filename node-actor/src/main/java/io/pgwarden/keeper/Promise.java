package io.pgwarden.keeper;

/**
 * This keeper's promise not to promote (nor open writes) until {@code untilMono} and {@code untilWall}
 * have both passed: given to a primary that renews its lease without the controller, and assumed after
 * every restart (a promise given just before a crash is not on disk).
 */
public record Promise(int primaryId, long untilMono, long untilWall) {

  /** Outstanding while either clock says so: the conservative reading. */
  public boolean activeAt(long nowMono, long nowWall) {
    return nowMono < untilMono || nowWall < untilWall;
  }

  public static Promise longest(Promise a, Promise b) {
    if (a == null) return b;
    if (b == null) return a;
    return new Promise(b.primaryId, Math.max(a.untilMono, b.untilMono), Math.max(a.untilWall, b.untilWall));
  }
}
