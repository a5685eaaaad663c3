package io.pgwarden.keeper;

import io.pgwarden.keeper.pg.LocalFacts;
import io.pgwarden.model.WalReceiverInfo;
import io.pgwarden.model.WalSenderInfo;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Patroni-compatible health checks for load balancers, judged from the keeper's published status and
 * the time of the request. Pure.
 *
 * <ul>
 *   <li>{@code /primary}, {@code /}, {@code /read-write}, {@code /master}: 200 only while this node holds
 *       a valid write lease, has reached its writable goal (the controller opened writes to it in the
 *       current term), and PostgreSQL answers, out of recovery, with read-only off;</li>
 *   <li>{@code /replica}: 200 only while PostgreSQL answers in recovery in a streaming-standby state,
 *       its WAL receiver streams from the primary the controller named, and — with {@code ?lag=} (bytes,
 *       or kB/MB/GB/TB) — its replay is that close to the end of WAL the primary last reported;</li>
 *   <li>{@code /read-only}: as {@code /replica}, or as {@code /primary};</li>
 *   <li>{@code /health}: PostgreSQL answers (any role);</li>
 *   <li>{@code /liveness}: the keeper's loop ran within the last second or so (no PostgreSQL involved);</li>
 *   <li>any other path: 503 (a mistyped check fails closed).</li>
 * </ul>
 * The body is a JSON status document shaped like Patroni's ({@code state}, {@code role},
 * {@code timeline}, {@code xlog}, {@code replication}, ...) plus a {@code pgwarden} section.
 */
public final class HealthCheck {
  private static final Pattern LAG = Pattern.compile("(?i)\\s*(\\d{1,18})\\s*(b|kb|mb|gb|tb)?\\s*");

  private HealthCheck() {}

  /** The answer: an HTTP status and a JSON-able body. */
  public record Result(int status, Map<String, Object> body) {}

  /** Is {@code path} one of the health paths (as opposed to an unknown one)? */
  public static boolean known(String path) {
    return switch (normalize(path)) {
      case "/", "/primary", "/read-write", "/master", "/replica", "/read-only", "/health", "/liveness" -> true;
      default -> false;
    };
  }

  /**
   * @param lag the {@code lag} query parameter, or null
   * @param livenessMs the keeper's loop counts as alive if it ran within this
   */
  public static Result evaluate(KeeperStatus s, String path, String lag, long nowMono, long nowWall,
      long livenessMs) {
    Map<String, Object> body = body(s, nowMono, nowWall);
    Long maxLag = null;
    if (lag != null) {
      maxLag = parseLag(lag);
      if (maxLag == null) {
        body.put("error", "lag must be a number of bytes, optionally with kB, MB, GB or TB: '" + lag + "'");
        return new Result(503, body);
      }
    }
    boolean ok = switch (normalize(path)) {
      case "/", "/primary", "/read-write", "/master" -> primary(s, nowMono, nowWall);
      case "/replica" -> replica(s, maxLag);
      case "/read-only" -> replica(s, maxLag) || primary(s, nowMono, nowWall);
      case "/health" -> s.facts() != null && s.facts().running();
      case "/liveness" -> s.started() && nowMono - s.lastEventMono() <= livenessMs;
      default -> false;
    };
    return new Result(ok ? 200 : 503, body);
  }

  private static String normalize(String path) {
    if (path == null || path.isEmpty()) return "/";
    String p = path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    return p.toLowerCase(Locale.ROOT);
  }

  /** Writable here and now: lease valid, writable goal reached, PostgreSQL open for writes. */
  public static boolean primary(KeeperStatus s, long nowMono, long nowWall) {
    LocalFacts f = s.facts();
    return s.started() && s.current().canTakeWrites() && s.goal() != null && s.goal().state() == s.current()
        && s.lease() != null && s.lease().validAt(nowMono, nowWall)
        && f != null && f.running() && !f.inRecovery() && !f.defaultReadOnly() && !s.fenced();
  }

  /** Streaming from the primary the controller named, within {@code maxLag} bytes when given. */
  public static boolean replica(KeeperStatus s, Long maxLag) {
    LocalFacts f = s.facts();
    if (!s.started() || f == null || !f.running() || !f.inRecovery() || !s.current().isStreamingStandby()) {
      return false;
    }
    WalReceiverInfo w = f.walReceiver();
    if (w == null || !w.streaming() || s.upstream() == null || s.upstream().address() == null) return false;
    if (w.senderPort() != s.upstream().address().port() || !s.upstream().address().host().equals(w.senderHost())) {
      return false;
    }
    if (maxLag == null) return true;
    Long l = f.replayLagBytes();
    return l != null && l <= maxLag;
  }

  /** Bytes, or a number with kB/MB/GB/TB (powers of 1024, as PostgreSQL and Patroni read them); null if bad. */
  public static Long parseLag(String text) {
    Matcher m = LAG.matcher(text);
    if (!m.matches()) return null;
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "b" : m.group(2).toLowerCase(Locale.ROOT);
    int shift = switch (unit) {
      case "kb" -> 10;
      case "mb" -> 20;
      case "gb" -> 30;
      case "tb" -> 40;
      default -> 0;
    };
    if (shift > 0 && n > (Long.MAX_VALUE >> shift)) return null;
    return n << shift;
  }

  /** The status document. */
  static Map<String, Object> body(KeeperStatus s, long nowMono, long nowWall) {
    Map<String, Object> b = new LinkedHashMap<>();
    LocalFacts f = s.facts();
    b.put("state", f == null ? "unknown" : switch (f.status()) {
      case RUNNING -> "running";
      case HUNG -> "not responding";
      case STOPPED, FAILED -> "stopped";
    });
    if (f != null && f.running()) {
      b.put("role", f.inRecovery() ? "replica" : "primary");
      b.put("database_system_identifier", Long.toUnsignedString(f.systemIdentifier()));
      b.put("timeline", f.timeline());
      Map<String, Object> xlog = new LinkedHashMap<>();
      if (f.inRecovery()) {
        xlog.put("received_location", f.receiveLsn().value());
        xlog.put("replayed_location", f.replayLsn().value());
        Long lag = f.replayLagBytes();
        if (lag != null) xlog.put("replay_lag_bytes", lag);
      } else {
        xlog.put("location", f.lsn().value());
      }
      b.put("xlog", xlog);
      if (!f.walSenders().isEmpty()) {
        List<Map<String, Object>> rep = new ArrayList<>();
        for (WalSenderInfo w : f.walSenders()) {
          Map<String, Object> r = new LinkedHashMap<>();
          r.put("application_name", w.applicationName());
          r.put("state", w.state());
          r.put("sync_state", w.syncState());
          rep.add(r);
        }
        b.put("replication", rep);
      }
      if (!f.syncStandbyNames().isEmpty()) b.put("sync_standby", f.syncStandbyNames());
    }
    Map<String, Object> w = new LinkedHashMap<>();
    w.put("formation", s.formation());
    w.put("node_id", s.nodeId());
    if (s.name() != null) w.put("name", s.name());
    w.put("state", s.current().wireName());
    if (s.goal() != null) {
      w.put("goal", s.goal().state().wireName());
      w.put("goal_stamp", s.goal().stamp().toString());
    }
    w.put("term", s.knownTerm());
    w.put("lease_ms_left", s.lease() == null ? 0 : Math.max(0, s.lease().remainingMs(nowMono, nowWall)));
    w.put("writable", primary(s, nowMono, nowWall));
    if (s.upstream() != null) w.put("upstream_node_id", s.upstream().nodeId());
    if (s.fenced()) w.put("fenced", true);
    if (s.error() != null) w.put("error", s.error());
    b.put("pgwarden", w);
    return b;
  }
}
