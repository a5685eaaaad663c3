package io.pgwarden.controller.core;

import io.pgwarden.model.NodeReport;

/**
 * What the controller has seen of one node in this incarnation (never journaled: heartbeats live in
 * memory). Times are on the controller's monotonic clock; null means "not since this controller started".
 *
 * @param report the last accepted report
 * @param reportMono when it arrived
 * @param probeOk the result of the controller's last probe of the node's PostgreSQL
 * @param lastProbeOkMono when a probe last succeeded
 * @param lastGrantMono when a write lease was last sent to this node
 * @param permitGrantMono when a promotion permit was last sent to this node
 * @param healthy the health last published (to detect flips)
 * @param anomaly the last report anomaly journaled (to journal each kind once)
 */
public record Observed(
    NodeReport report,
    Long reportMono,
    Boolean probeOk,
    String probeDetail,
    Long lastProbeOkMono,
    Long lastGrantMono,
    Long permitGrantMono,
    Boolean healthy,
    String anomaly) {

  public static final Observed NOTHING = new Observed(null, null, null, null, null, null, null, null, null);

  public Observed withReport(NodeReport r, long mono) {
    return new Observed(r, mono, probeOk, probeDetail, lastProbeOkMono, lastGrantMono, permitGrantMono, healthy, null);
  }

  public Observed withProbe(boolean ok, String detail, long mono) {
    return new Observed(report, reportMono, ok, detail, ok ? Long.valueOf(mono) : lastProbeOkMono, lastGrantMono,
        permitGrantMono, healthy, anomaly);
  }

  public Observed withGrant(long mono) {
    return new Observed(report, reportMono, probeOk, probeDetail, lastProbeOkMono, mono, permitGrantMono, healthy,
        anomaly);
  }

  public Observed withPermit(long mono) {
    return new Observed(report, reportMono, probeOk, probeDetail, lastProbeOkMono, lastGrantMono, mono, healthy,
        anomaly);
  }

  public Observed withHealthy(boolean h) {
    return new Observed(report, reportMono, probeOk, probeDetail, lastProbeOkMono, lastGrantMono, permitGrantMono, h,
        anomaly);
  }

  public Observed withAnomaly(String a) {
    return new Observed(report, reportMono, probeOk, probeDetail, lastProbeOkMono, lastGrantMono, permitGrantMono,
        healthy, a);
  }
}
