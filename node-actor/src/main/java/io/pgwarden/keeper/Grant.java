package io.pgwarden.keeper;

/**
 * A lease or a permit: valid for {@code durationMs} from the moment its request was sent, measured on
 * both clocks. It has expired as soon as either the monotonic or the wall-clock time elapsed since then
 * reaches the duration: the monotonic clock may stop across a suspend, the wall clock may be stepped,
 * and only the larger of the two is trusted.
 */
public record Grant(long fromMono, long fromWall, long durationMs) {

  public boolean validAt(long nowMono, long nowWall) {
    return nowMono - fromMono < durationMs && nowWall - fromWall < durationMs;
  }

  /** Time left, on the clock that leaves less; 0 or negative once expired. */
  public long remainingMs(long nowMono, long nowWall) {
    return Math.min(fromMono + durationMs - nowMono, fromWall + durationMs - nowWall);
  }

  /**
   * The grant whose request was sent last wins: a later request measures elapsed time from a later
   * point on both clocks, so an older grant can never extend it.
   */
  public static Grant newest(Grant current, Grant other) {
    if (current == null) return other;
    if (other == null) return current;
    return other.fromMono > current.fromMono ? other : current;
  }
}
