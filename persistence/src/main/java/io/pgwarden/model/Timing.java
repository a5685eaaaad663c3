package io.pgwarden.model;

/**
 * Every timeout of the failover protocol, in milliseconds. The defaults aim at a host-kill failover
 * under 3 s on loopback: a dead primary is declared failed no earlier than its write lease has
 * certainly expired, so detection and the lease wait overlap instead of adding up.
 *
 * @param reportIntervalMs how often a keeper reports
 * @param leaseMs L, the write lease a report reply grants
 * @param clockRatePpm ρ in parts per million: how much faster a keeper's clock may run than the
 *     controller's before the lease arithmetic stops being safe
 * @param leaseMarginMs δ, added on top of L·(1+ρ) for message handling
 * @param silenceMs a keeper silent this long (on the controller's clock, pauses excluded) is silent
 * @param probeIntervalMs how often the controller probes every node's PostgreSQL
 * @param probeTimeoutMs a probe that gets no answer in this time failed
 * @param evidenceFreshMs a standby's evidence of the primary (WAL received, or its own probe) counts
 *     while it is younger than this
 * @param vetoMaxMs a standby's evidence vetoes a failover for at most this long after the primary's
 *     keeper fell silent, so that a grey failure cannot block failover forever
 * @param permitMs validity of a promotion permit
 * @param tickMs the controller's own heartbeat, used to detect its pauses
 * @param pauseMs a gap between ticks longer than this is a controller pause
 * @param syncLagBytes a catching-up standby within this of the primary becomes secondary
 */
public record Timing(
    long reportIntervalMs,
    long leaseMs,
    long clockRatePpm,
    long leaseMarginMs,
    long silenceMs,
    long probeIntervalMs,
    long probeTimeoutMs,
    long evidenceFreshMs,
    long vetoMaxMs,
    long permitMs,
    long tickMs,
    long pauseMs,
    long syncLagBytes) {

  public static final Timing DEFAULT = new Timing(
      500, 2_000, 50_000, 100, 2_000, 500, 500, 1_500, 30_000, 1_500, 100, 500, 16L * 1024 * 1024);

  /** Time after the last grant at which a lease has certainly expired, on the controller's clock. */
  public long leaseCertainlyExpiredAfterMs() {
    return leaseMs + (leaseMs * clockRatePpm + 999_999) / 1_000_000 + leaseMarginMs;
  }

  /** After a controller start: no failover before a full lease plus one report interval. */
  public long startupGraceMs() {
    return leaseCertainlyExpiredAfterMs() + reportIntervalMs;
  }

  public Timing withLeaseMs(long l) {
    return new Timing(reportIntervalMs, l, clockRatePpm, leaseMarginMs, silenceMs, probeIntervalMs, probeTimeoutMs,
        evidenceFreshMs, vetoMaxMs, permitMs, tickMs, pauseMs, syncLagBytes);
  }

  public Timing withVetoMaxMs(long v) {
    return new Timing(reportIntervalMs, leaseMs, clockRatePpm, leaseMarginMs, silenceMs, probeIntervalMs,
        probeTimeoutMs, evidenceFreshMs, v, permitMs, tickMs, pauseMs, syncLagBytes);
  }
}
