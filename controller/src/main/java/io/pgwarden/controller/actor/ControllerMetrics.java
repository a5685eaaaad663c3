package io.pgwarden.controller.actor;

import io.pgwarden.controller.core.FailureDetector;
import io.pgwarden.controller.core.Member;
import io.pgwarden.model.FormationEvent;
import io.pgwarden.model.NodeReport;
import io.pgwarden.model.NodeState;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The controller's Prometheus metrics. Counters are bumped by the supervisors as they decide; gauges
 * (nodes per state, health, retained WAL) are computed from snapshots when /metrics is scraped.
 */
public final class ControllerMetrics {
  /** Upper bounds of the report latency histogram, in seconds. */
  static final double[] BUCKETS = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5};

  private final AtomicLongArray reportBuckets = new AtomicLongArray(BUCKETS.length + 1);
  private final AtomicLong reportCount = new AtomicLong();
  private final AtomicLong reportNanos = new AtomicLong();
  private final Map<String, AtomicLong> failovers = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> decisions = new ConcurrentHashMap<>();
  private final Map<String, Long> failoverStart = new ConcurrentHashMap<>();
  private final Map<String, double[]> failoverSeconds = new ConcurrentHashMap<>();
  private final AtomicLong leaseGrants = new AtomicLong();

  public void reportHandled(long nanos) {
    reportCount.incrementAndGet();
    reportNanos.addAndGet(nanos);
    double s = nanos / 1e9;
    int i = 0;
    while (i < BUCKETS.length && s > BUCKETS[i]) i++;
    reportBuckets.incrementAndGet(i);
  }

  public void leaseGranted() {
    leaseGrants.incrementAndGet();
  }

  /** Counts decisions; a failover's duration runs from the decision that starts it to writes reopening. */
  public void decided(String formation, FormationEvent.Decided d) {
    decisions.computeIfAbsent(formation + "\u0000" + d.rule(), k -> new AtomicLong()).incrementAndGet();
    if (d.failover() != null) {
      failovers.computeIfAbsent(formation + "\u0000" + d.failover().kind(), k -> new AtomicLong()).incrementAndGet();
      failoverStart.put(formation, d.at());
    } else if (d.goals().stream().anyMatch(g -> g.state().canTakeWrites()) && failoverStart.containsKey(formation)) {
      long start = failoverStart.remove(formation);
      failoverSeconds.merge(formation, new double[] {1, (d.at() - start) / 1000.0},
          (a, b) -> new double[] {a[0] + b[0], a[1] + b[1]});
    }
  }

  /** Prometheus text exposition; {@code snapshots} are the formations as their supervisors see them now. */
  public String render(List<FormationSupervisor.Snapshot> snapshots) {
    StringBuilder sb = new StringBuilder();
    sb.append("# HELP pgwarden_nodes Nodes per formation, assigned state and health.\n");
    sb.append("# TYPE pgwarden_nodes gauge\n");
    StringBuilder wal = new StringBuilder();
    for (FormationSupervisor.Snapshot s : snapshots) {
      FailureDetector d = new FailureDetector(s.formation(), s.observations(), s.timing(), s.now().mono());
      Map<String, Integer> counts = new TreeMap<>();
      for (Member m : s.formation().members().values()) {
        String health = d.healthy(m.nodeId()) ? "good" : d.unhealthy(m.nodeId()) ? "bad" : "unknown";
        counts.merge(m.goalState().wireName() + "\u0000" + health, 1, Integer::sum);
        NodeReport r = s.observations().of(m.nodeId()).report();
        if (r != null && !r.inRecovery()) {
          for (var w : r.walSenders()) {
            if (w.flushLsn() == null) continue;
            wal.append("pgwarden_standby_lag_bytes{formation=\"").append(s.formation().name())
                .append("\",application_name=\"").append(w.applicationName()).append("\"} ")
                .append(Math.max(0, r.lsn().minus(w.flushLsn()))).append('\n');
          }
        }
      }
      for (var e : counts.entrySet()) {
        String[] k = e.getKey().split("\u0000");
        sb.append("pgwarden_nodes{formation=\"").append(s.formation().name()).append("\",state=\"").append(k[0])
            .append("\",health=\"").append(k[1]).append("\"} ").append(e.getValue()).append('\n');
      }
      sb.append("pgwarden_term{formation=\"").append(s.formation().name()).append("\"} ")
          .append(s.formation().term()).append('\n');
    }
    sb.append("# HELP pgwarden_standby_lag_bytes WAL a standby has not flushed yet, as its primary reports it.\n");
    sb.append("# TYPE pgwarden_standby_lag_bytes gauge\n").append(wal);
    sb.append("# HELP pgwarden_failovers_total Failovers started, by kind.\n# TYPE pgwarden_failovers_total counter\n");
    counter(sb, "pgwarden_failovers_total", failovers, "kind");
    sb.append("# HELP pgwarden_decisions_total Decisions journaled, by rule.\n# TYPE pgwarden_decisions_total counter\n");
    counter(sb, "pgwarden_decisions_total", decisions, "rule");
    sb.append("# HELP pgwarden_failover_seconds From the decision that starts a failover to writes reopening.\n");
    sb.append("# TYPE pgwarden_failover_seconds summary\n");
    for (var e : new TreeMap<>(failoverSeconds).entrySet()) {
      sb.append("pgwarden_failover_seconds_count{formation=\"").append(e.getKey()).append("\"} ")
          .append((long) e.getValue()[0]).append('\n');
      sb.append("pgwarden_failover_seconds_sum{formation=\"").append(e.getKey()).append("\"} ")
          .append(String.format(Locale.ROOT, "%.3f", e.getValue()[1])).append('\n');
    }
    sb.append("# HELP pgwarden_report_seconds Time the supervisor takes to handle a keeper report.\n");
    sb.append("# TYPE pgwarden_report_seconds histogram\n");
    long cum = 0;
    for (int i = 0; i <= BUCKETS.length; i++) {
      cum += reportBuckets.get(i);
      String le = i < BUCKETS.length ? String.valueOf(BUCKETS[i]) : "+Inf";
      sb.append("pgwarden_report_seconds_bucket{le=\"").append(le).append("\"} ").append(cum).append('\n');
    }
    sb.append("pgwarden_report_seconds_count ").append(reportCount.get()).append('\n');
    sb.append("pgwarden_report_seconds_sum ").append(String.format(Locale.ROOT, "%.6f", reportNanos.get() / 1e9))
        .append('\n');
    sb.append("# HELP pgwarden_lease_grants_total Write leases sent to primaries.\n");
    sb.append("# TYPE pgwarden_lease_grants_total counter\npgwarden_lease_grants_total ").append(leaseGrants.get())
        .append('\n');
    return sb.toString();
  }

  private static void counter(StringBuilder sb, String name, Map<String, AtomicLong> m, String label) {
    for (var e : new TreeMap<>(m).entrySet()) {
      String[] k = e.getKey().split("\u0000");
      sb.append(name).append("{formation=\"").append(k[0]).append("\",").append(label).append("=\"").append(k[1])
          .append("\"} ").append(e.getValue().get()).append('\n');
    }
  }

  /** Nodes per state across snapshots, for tests and the CLI. */
  public static Map<NodeState, Integer> statesOf(List<FormationSupervisor.Snapshot> snapshots) {
    Map<NodeState, Integer> m = new java.util.EnumMap<>(NodeState.class);
    for (var s : snapshots) {
      for (Member x : s.formation().members().values()) m.merge(x.goalState(), 1, Integer::sum);
    }
    return m;
  }
}
