package io.pgwarden.keeper;

import io.pgwarden.model.Timing;

/**
 * The keeper's own settings. Protocol timeouts come from {@link Timing}; the rest are local policy.
 *
 * @param restartAttempts starts (each given restartBackoffMs) in a state that wants PostgreSQL running
 *     before it reports FAILED
 * @param restartGiveUpMs ... or this long down despite starts, whichever comes first
 * @param restartBackoffMs between two starts (ensure)
 * @param retryBaseMs first delay before a failed transition is retried; doubles each time
 * @param retryMaxMs the largest retry delay
 * @param peersRefreshMs how often ensure re-runs MaintainPeers (slots advance) when peers did not change
 */
public record KeeperConfig(int nodeId, Timing timing, int restartAttempts, long restartGiveUpMs,
    long restartBackoffMs, long retryBaseMs, long retryMaxMs, long peersRefreshMs) {

  public static KeeperConfig of(int nodeId, Timing timing) {
    return new KeeperConfig(nodeId, timing, 3, 5_000, 1_000, 200, 5_000, 10_000);
  }

  /**
   * How long a promise to a primary lasts, from when its request arrived: the primary's lease runs L from
   * when it started asking (earlier), so L·(1+ρ)+δ — the time after which the controller, too, considers
   * a lease certainly expired — outlasts it even if this clock runs fast.
   */
  public long promiseMs() {
    return timing.leaseCertainlyExpiredAfterMs();
  }
}
