package io.pgwarden.controller.core;

import io.pgwarden.model.NodeFacts;
import io.pgwarden.model.NodeReport;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.PgStatus;
import io.pgwarden.model.Timing;
import io.pgwarden.model.WalReceiverInfo;

/**
 * Judges nodes from two observers: the controller (the keeper's reports and its own probe of
 * PostgreSQL) and the standbys (their WAL receiver and their own probe of the primary). Pure: every
 * answer is a function of the observations, the timing settings and {@code now}.
 */
public final class FailureDetector {
  private final Formation formation;
  private final Observations obs;
  private final Timing t;
  private final long now;

  public FailureDetector(Formation formation, Observations obs, Timing t, long nowMono) {
    this.formation = formation;
    this.obs = obs;
    this.t = t;
    this.now = nowMono;
  }

  /** Time since the keeper was last heard, never counting across a controller start or pause. */
  public long silentFor(int nodeId) {
    Observed o = obs.of(nodeId);
    long since = Math.max(obs.pauseEndMono(), o.reportMono() == null ? obs.bootMono() : o.reportMono());
    return Math.max(0, now - since);
  }

  public boolean keeperSilent(int nodeId) {
    return silentFor(nodeId) >= t.silenceMs();
  }

  /** A report recent enough to be used as a current fact. */
  public NodeReport freshReport(int nodeId) {
    Observed o = obs.of(nodeId);
    return o.report() != null && !keeperSilent(nodeId) ? o.report() : null;
  }

  /** The controller's probe has failed, and has not succeeded for a full probe round. */
  public boolean probeFailing(int nodeId) {
    Observed o = obs.of(nodeId);
    if (Boolean.TRUE.equals(o.probeOk())) return false;
    long lastOk = o.lastProbeOkMono() == null ? Math.max(obs.bootMono(), obs.pauseEndMono())
        : Math.max(o.lastProbeOkMono(), obs.pauseEndMono());
    return now - lastOk >= t.probeIntervalMs() + t.probeTimeoutMs();
  }

  /** Standby {@code s}'s fresh evidence that {@code primary} is alive, or null when it has none. */
  public Evidence evidenceFrom(int s, Member primary) {
    NodeReport r = freshReport(s);
    if (r == null) return null;
    long reportAge = now - obs.of(s).reportMono();
    WalReceiverInfo w = r.walReceiver();
    NodeReport pr = obs.of(primary.nodeId()).report();
    if (w != null && w.streaming() && w.upstreamNodeId() != null && w.upstreamNodeId() == primary.nodeId()
        && w.lastMsgAgeMs() != null && (pr == null || pr.timeline() == 0 || w.receivedTimeline() == pr.timeline())) {
      long age = w.lastMsgAgeMs() + reportAge;
      if (age <= t.evidenceFreshMs() || KnownBugs.on(KnownBugs.Bug.TRUST_STALE_STREAMING)) {
        return new Evidence(s, "wal_receiver", age);
      }
    }
    if (r.primaryProbeAgeMs() != null) {
      long age = r.primaryProbeAgeMs() + reportAge;
      if (age <= t.evidenceFreshMs()) return new Evidence(s, "probe", age);
    }
    return null;
  }

  /** What one standby saw of the primary, and how old it is. */
  public record Evidence(int standby, String kind, long ageMs) {}

  /** The freshest evidence any standby has of the primary, or null. */
  public Evidence standbyEvidence(Member primary) {
    Evidence best = null;
    for (Member m : formation.active()) {
      if (m.nodeId() == primary.nodeId()) continue;
      Evidence e = evidenceFrom(m.nodeId(), primary);
      if (e != null && (best == null || e.ageMs() < best.ageMs())) best = e;
    }
    return best;
  }

  /**
   * The primary has failed: its keeper is silent, the controller's probe fails, and no standby has
   * fresh evidence of it (evidence stops counting once the keeper has been silent for vetoMaxMs); or
   * its keeper reports PostgreSQL down for good.
   */
  public Verdict primaryVerdict(Member primary) {
    int id = primary.nodeId();
    NodeReport r = freshReport(id);
    if (r != null) {
      if (r.pg() == PgStatus.FAILED) return new Verdict(true, "keeper reports PostgreSQL failed and not restartable");
      return new Verdict(false, "keeper reporting");
    }
    if (!probeFailing(id)) return new Verdict(false, "keeper silent but the controller's probe succeeds");
    Evidence e = standbyEvidence(primary);
    if (e != null && silentFor(id) < t.vetoMaxMs()) {
      return new Verdict(false, "node " + e.standby() + " sees it alive (" + e.kind() + ", " + e.ageMs() + " ms)");
    }
    return new Verdict(true, "keeper silent " + silentFor(id) + " ms, probe failing"
        + (e == null ? ", no standby sees it" : ", standby evidence ignored after " + t.vetoMaxMs() + " ms"));
  }

  public record Verdict(boolean failed, String why) {}

  /**
   * pg_auto_failover's IsUnhealthy, with our two observers: silent and unreachable, or PostgreSQL
   * reported down. A node the controller has not heard from yet is unknown, not unhealthy.
   */
  public boolean unhealthy(int nodeId) {
    NodeReport r = freshReport(nodeId);
    if (r != null) return !r.pg().alive();
    return keeperSilent(nodeId) && probeFailing(nodeId);
  }

  /** Positively healthy: its keeper reports, and its PostgreSQL runs. */
  public boolean healthy(int nodeId) {
    NodeReport r = freshReport(nodeId);
    return r != null && r.pg().alive();
  }

  /** The node's reported state; INIT when it has not reported in this incarnation. */
  public NodeState reported(int nodeId) {
    NodeReport r = obs.of(nodeId).report();
    return r == null ? null : r.state();
  }

  public NodeFacts facts(Member m) {
    Observed o = obs.of(m.nodeId());
    NodeReport r = o.report();
    String evidence = "none";
    Long evidenceAge = null;
    if (r != null && r.walReceiver() != null && r.walReceiver().lastMsgAgeMs() != null) {
      evidence = "wal_receiver:" + r.walReceiver().status();
      evidenceAge = r.walReceiver().lastMsgAgeMs() + (o.reportMono() == null ? 0 : now - o.reportMono());
    } else if (r != null && r.primaryProbeAgeMs() != null) {
      evidence = "probe";
      evidenceAge = r.primaryProbeAgeMs() + (o.reportMono() == null ? 0 : now - o.reportMono());
    }
    return new NodeFacts(m.nodeId(), r == null ? null : r.state(), m.goalState(),
        r == null ? null : r.pg(), r == null ? 0 : r.timeline(), r == null ? null : r.lsn(),
        o.reportMono() == null ? null : now - o.reportMono(), o.probeOk(),
        o.lastProbeOkMono() == null ? null : now - o.lastProbeOkMono(), evidence, evidenceAge, healthy(m.nodeId()));
  }
}
