package io.pgwarden.controller.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.pgwarden.api.Dto;
import io.pgwarden.model.NodeReport;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.TermSeq;
import io.pgwarden.persistence.Json;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Random requests against the real controller: methods, paths, query strings, credentials, content
 * types, headers and bodies, most of them wrong. Every answer must be JSON with a 4xx status (or a
 * 2xx for the rare valid request; /metrics and the event stream answer in their own types); a
 * refused request must not add a row to the journal; and the controller must still work afterwards.
 * The controller runs with {@link LiveController#QUIET} timings so that nothing is journaled unless a
 * request asks for it. The one refusal that is journaled on purpose is a keeper's report the
 * controller rejects as inconsistent (409 report_rejected): the audit keeps one
 * {@code node.report-rejected} event per new anomaly. Reproduce with -Dfuzz.seed=N; size with
 * -Dfuzz.requests=N.
 */
class LiveFuzzTest {
  static final String T = "ff";

  LiveController c;
  RawHttp http;
  final Map<Integer, String> credentials = new TreeMap<>();
  String otherFormationCredential;
  int registered;

  @Test
  void randomRequestsAreAnsweredAsJsonAndRefusedOnesChangeNothing() throws Exception {
    long seed = Long.getLong("fuzz.seed", System.nanoTime());
    int count = Integer.getInteger("fuzz.requests", 2500);
    System.out.println("LiveFuzzTest seed " + seed + " (rerun with -Dfuzz.seed=" + seed + "), " + count + " requests");
    Random rnd = new Random(seed);
    try (LiveController live = LiveController.start("fuzz", LiveController.QUIET)) {
      c = live;
      http = new RawHttp(c.base);
      c.api.createFormation(new Dto.CreateFormation(T, null, null, null, "fuzz target"));
      c.api.createFormation(new Dto.CreateFormation("fg", null, null, null, "the other formation"));
      otherFormationCredential = c.keepers("fg").addManual("other").credential;
      SimKeepers keepers = c.keepers(T);
      for (int i = 0; i < 2; i++) {
        SimKeepers.Sim s = keepers.addManual("n" + i);
        credentials.put(s.id, s.credential);
      }
      Map<String, Integer> statuses = new TreeMap<>();
      long t0 = System.nanoTime();
      try (Connection db = c.config.journal(c.dir).connect()) {
        long last = settle(db);
        for (int i = 0; i < count; i++) {
          Req req = request(rnd);
          RawHttp.Resp r;
          try {
            r = http.send(req.method, req.path, null, req.contentType, req.body, req.headers.toArray(new String[0]));
          } catch (RuntimeException e) {
            // An oversized body may be cut off by the server closing the connection after its early 413.
            if (req.body != null && req.body.length > 256 * 1024 && maxOrdering(db) == last) {
              statuses.merge("closed", 1, Integer::sum);
              continue;
            }
            throw new AssertionError("seed " + seed + " request " + i + " " + req + " got no answer", e);
          }
          int s = r.status();
          String where = "seed " + seed + " request " + i + " " + req + " -> " + r;
          boolean ok = s >= 200 && s < 300;
          if (!ok && (s < 400 || s > 499)) fail("not a 2xx or 4xx: " + where);
          boolean stream = r.contentType().startsWith("text/event-stream");
          boolean metrics = ok && req.path.startsWith("/metrics");
          if (!req.method.equals("HEAD") && !stream && !metrics) {
            assertTrue(r.contentType().startsWith("application/json"), "not JSON: " + where);
            if (ok) r.json();
            else r.error();
          }
          if (stream) assertEquals(200, s, where);
          if (metrics) assertTrue(r.contentType().startsWith("text/plain"), where);
          String code = ok || req.method.equals("HEAD") ? "" : r.error();
          if (statuses.merge(Integer.toString(s), 1, Integer::sum) <= 3 && Boolean.getBoolean("fuzz.show")) {
            System.out.println("example " + where);
          }
          boolean reads = req.method.equals("GET") || req.method.equals("HEAD");
          if (ok && !reads || code.equals("report_rejected")) {
            if (ok) keepTarget();
            long now = settle(db);
            if (!ok && now != last) {
              for (String type : typesAfter(db, last)) {
                assertEquals("node.report-rejected", type, "a rejected report journals only its anomaly: " + where);
              }
            }
            last = now;
          } else {
            long now = maxOrdering(db);
            if (now != last) {
              fail("the journal changed (" + typesAfter(db, last) + ") on a " + (ok ? "read" : "refused request")
                  + ": " + where);
            }
          }
        }
      }
      System.out.println("LiveFuzzTest statuses " + statuses + " in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
      assertTrue(statuses.keySet().stream().anyMatch(k -> k.startsWith("2")), "some requests succeed");

      // the controller still serves, and still works
      assertTrue(c.api.health());
      assertTrue(c.api.ready());
      c.api.createFormation(new Dto.CreateFormation("after-fuzz", null, null, null, null));
      assertTrue(c.api.formations().stream().anyMatch(f -> f.name().equals("after-fuzz")));
      assertEquals(T, c.api.state(T).formation());
      assertTrue(c.api.events(T, null, null, 10).events().size() > 0);
    }
  }

  /** Waits until the journal holds still for 25 ms (node actors journal just after the answer). */
  private static long settle(Connection db) throws Exception {
    long last = maxOrdering(db);
    long quietSince = System.nanoTime();
    long deadline = quietSince + 5_000_000_000L;
    while (System.nanoTime() - quietSince < 25_000_000L) {
      if (System.nanoTime() > deadline) throw new AssertionError("the journal did not settle");
      Thread.sleep(3);
      long now = maxOrdering(db);
      if (now != last) {
        last = now;
        quietSince = System.nanoTime();
      }
    }
    return last;
  }

  private static long maxOrdering(Connection db) throws Exception {
    try (PreparedStatement st = db.prepareStatement("SELECT COALESCE(MAX(\"ordering\"), 0) FROM \"event_journal\"");
        ResultSet rs = st.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static List<String> typesAfter(Connection db, long ordering) throws Exception {
    List<String> out = new ArrayList<>();
    try (PreparedStatement st = db.prepareStatement(
        "SELECT \"event_ser_manifest\" FROM \"event_journal\" WHERE \"ordering\" > ? ORDER BY \"ordering\"")) {
      st.setLong(1, ordering);
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) out.add(rs.getString(1));
      }
    }
    return out;
  }

  /** After a successful request: the target keeps two nodes whose credentials the fuzzer knows. */
  private void keepTarget() {
    List<Integer> present = c.api.state(T).nodes().stream().map(Dto.NodeView::nodeId).toList();
    credentials.keySet().retainAll(present);
    while (credentials.size() < 2) {
      Dto.Registration r = c.api.register(T, new Dto.RegisterNode("k" + ++registered, "127.0.0.1",
          20_000 + registered, null, null, null));
      credentials.put(r.nodeId(), r.credential());
    }
  }

  // ---- random requests --------------------------------------------------------------------------------

  record Req(String method, String path, String contentType, byte[] body, List<String> headers) {
    @Override
    public String toString() {
      String b = body == null ? "-" : new String(body, StandardCharsets.UTF_8);
      if (b.length() > 200) b = b.substring(0, 200) + "...(" + body.length + " bytes)";
      return method + " " + path + " [" + contentType + "] " + headers + " " + b;
    }
  }

  private static <T> T one(Random rnd, List<T> xs) {
    return xs.get(rnd.nextInt(xs.size()));
  }

  private Req request(Random rnd) {
    String f = rnd.nextInt(8) == 0 ? one(rnd, List.of("fg", "nope", "z" + rnd.nextInt(4), "UPPER", "%2e%2e", "a%00b",
        "x".repeat(100), enc(junk(rnd, 12)))) : T;
    String base = "/api/v1/formations/" + f;
    String node = rnd.nextInt(6) == 0 ? one(rnd, List.of("0", "-3", "abc", "99999999999", "1.5", "%31", "77"))
        : Integer.toString(one(rnd, new ArrayList<>(credentials.keySet())));
    String[] target = switch (rnd.nextInt(16)) {
      case 0 -> new String[] {one(rnd, List.of("/health", "/ready", "/metrics")), "GET"};
      case 1 -> new String[] {"/api/v1/formations", rnd.nextBoolean() ? "GET" : "POST"};
      case 2 -> new String[] {"/api/v1/formations/z" + rnd.nextInt(4) + (rnd.nextBoolean() ? "?reason=fuzz" : ""),
          rnd.nextBoolean() ? "DELETE" : "GET"};
      case 3 -> new String[] {base, "GET"};
      case 4 -> new String[] {base + "/nodes", "POST"};
      case 5, 6, 7 -> new String[] {base + "/nodes/" + node + "/report" + reportQuery(rnd), "POST"};
      case 8 -> new String[] {base + "/" + one(rnd, List.of("state", "uri", "settings")), "GET"};
      case 9 -> new String[] {base + "/events" + eventsQuery(rnd), "GET"};
      case 10 -> new String[] {base + "/events/stream" + (rnd.nextBoolean() ? "?after=" + one(rnd, List.of("0", "5",
          "-1", "x", "")) : ""), "GET"};
      case 11 -> new String[] {base + "/operations/" + one(rnd, List.of("op-1", "op-2", "op-99", enc(junk(rnd, 8)))),
          "GET"};
      case 12, 13, 14 -> new String[] {base + "/actions", "POST"};
      default -> new String[] {"/" + enc(junk(rnd, rnd.nextInt(20))) + one(rnd, List.of("", "/api/v1", "/..")), "GET"};
    };
    String method = rnd.nextInt(10) < 8 ? target[1]
        : one(rnd, List.of("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"));
    List<String> headers = new ArrayList<>();
    switch (rnd.nextInt(10)) {
      case 0 -> { } // no credential
      case 1 -> headers.addAll(List.of("Authorization", "Bearer " + one(rnd, List.of("pgwo_", "pgwn_", "", "x_"))
          + printable(rnd, 1 + rnd.nextInt(50)).replace(' ', '-')));
      case 2 -> headers.addAll(List.of("Authorization", one(rnd, List.of("Basic YTpi", "Bearer", "Token t",
          "Bearer " + c.operatorToken + "x", "bearer  " + c.operatorToken + " extra"))));
      case 3 -> headers.addAll(List.of("Authorization", "Bearer " + otherFormationCredential));
      case 4, 5 -> headers.addAll(List.of("Authorization", "Bearer "
          + one(rnd, new ArrayList<>(credentials.values()))));
      default -> headers.addAll(List.of("Authorization", "Bearer " + c.operatorToken));
    }
    String contentType = switch (rnd.nextInt(10)) {
      case 0 -> null;
      case 1 -> "text/plain";
      case 2 -> one(rnd, List.of("application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=b"));
      case 3 -> "application/json; charset=utf-8";
      default -> "application/json";
    };
    if (rnd.nextInt(5) == 0) headers.addAll(List.of("Idempotency-Key", rnd.nextBoolean() ? "key-" + rnd.nextInt(4)
        : printable(rnd, 1 + rnd.nextInt(220))));
    if (rnd.nextInt(6) == 0) headers.addAll(List.of("Accept", one(rnd, List.of("text/html", "application/xml", "*/*",
        "text/event-stream"))));
    if (rnd.nextInt(10) == 0) headers.addAll(List.of("Last-Event-ID", printable(rnd, 1 + rnd.nextInt(8))));
    if (rnd.nextInt(10) == 0) headers.addAll(List.of("X-Fuzz-" + rnd.nextInt(50), printable(rnd, 1 + rnd.nextInt(30))));
    byte[] body = method.equals("GET") && rnd.nextInt(4) > 0 ? null : body(rnd);
    return new Req(method, target[0], contentType, body, headers);
  }

  /** Long-poll waits stay short or invalid: a valid long wait would only slow the fuzzer down. */
  private static String reportQuery(Random rnd) {
    List<String> q = new ArrayList<>();
    if (rnd.nextBoolean()) q.add("known=" + one(rnd, List.of(rnd.nextInt(4) + "." + rnd.nextInt(12), "0.0", "x", "1",
        "1.2.3", "-1.0", "")));
    if (rnd.nextInt(3) == 0) q.add("wait_ms=" + one(rnd, List.of("0", "5", "-1", "soon", "99999999999999999999")));
    return q.isEmpty() ? "" : "?" + String.join("&", q);
  }

  private static String eventsQuery(Random rnd) {
    List<String> q = new ArrayList<>();
    if (rnd.nextBoolean()) q.add("limit=" + one(rnd, List.of("1", "5", "0", "1001", "-2", "many")));
    if (rnd.nextInt(3) == 0) q.add("before=" + one(rnd, List.of("3", "0", "x", "9223372036854775807")));
    if (rnd.nextInt(3) == 0) q.add("since=" + one(rnd, List.of("0", "2026-11-25T19:00:00Z", "yesterday", "-5")));
    return q.isEmpty() ? "" : "?" + String.join("&", q);
  }

  private byte[] body(Random rnd) {
    String s = switch (rnd.nextInt(14)) {
      case 0 -> null;
      case 1 -> {
        byte[] b = new byte[rnd.nextInt(200)];
        rnd.nextBytes(b);
        yield new String(b, StandardCharsets.ISO_8859_1);
      }
      case 2 -> "{\"reason\":\"" + "r".repeat(256 * 1024 + rnd.nextInt(10_000)) + "\"}";
      case 3 -> {
        String t = template(rnd);
        yield t.substring(0, rnd.nextInt(t.length()));
      }
      case 4 -> one(rnd, List.of("", "null", "[]", "42", "\"x\"", "{}", "{\"a\":{\"b\":{\"c\":[[[[[]]]]]}}}"));
      case 5, 6 -> template(rnd);
      default -> mutate(rnd, template(rnd));
    };
    return s == null ? null : s.getBytes(s.chars().anyMatch(ch -> ch > 0xff) ? StandardCharsets.UTF_8
        : StandardCharsets.ISO_8859_1);
  }

  /** A body that a route would take, give or take its values. */
  private String template(Random rnd) {
    return switch (rnd.nextInt(4)) {
      case 0 -> "{\"name\":\"z" + rnd.nextInt(4) + "\",\"dbname\":\"app\",\"number_sync_standbys\":"
          + (rnd.nextInt(3) - 1) + ",\"reason\":\"fuzz\"}";
      case 1 -> "{\"name\":\"m" + rnd.nextInt(30) + "\",\"host\":\"127.0.0.1\",\"port\":" + (rnd.nextInt(70_000) - 5)
          + ",\"candidate_priority\":" + (rnd.nextInt(120) - 10) + ",\"replication_quorum\":" + rnd.nextBoolean() + "}";
      case 2 -> Json.write(NodeReport.initial(one(rnd, List.of(NodeState.values())),
          new TermSeq(rnd.nextInt(3), rnd.nextInt(10)), rnd.nextInt(4)));
      default -> "{\"kind\":\"" + one(rnd, List.of("failover", "switchover", "promotion", "maintenance-on",
          "maintenance-off", "drop-node", "set-candidate-priority", "set-replication-quorum",
          "set-number-sync-standbys", "set-failover-data-loss-allowed", "reboot", "", "SWITCHOVER")) + "\",\"node\":\"n"
          + rnd.nextInt(3) + "\",\"value\":" + (rnd.nextInt(130) - 20) + ",\"reason\":\"fuzz\""
          + (rnd.nextBoolean() ? ",\"idempotency_key\":\"key-" + rnd.nextInt(4) + "\"" : "") + "}";
    };
  }

  private String mutate(Random rnd, String json) {
    String s = json;
    for (int i = rnd.nextInt(3); i >= 0; i--) {
      s = switch (rnd.nextInt(6)) {
        case 0 -> s.replaceFirst(":-?\\d+", ":" + one(rnd, List.of("\"7\"", "1e999", "-9223372036854775809",
            "18446744073709551616", "null", "[]", "{}", "2.5", "false")));
        case 1 -> s.replaceFirst(":\"[^\"]*\"", ":" + one(rnd, List.of("null", "17", "\"\"", "\"\\u0000\"",
            "[\"a\"]", "{\"x\":1}", "\"" + "€".repeat(rnd.nextInt(20)) + "\"")));
        case 2 -> s.replaceFirst("\"[a-z_]+\":", "\"" + one(rnd, List.of("name", "kind", "state", "port", "node",
            "value", "executed", "pg", "lsn", "known_term", "unknown_field")) + "\":");
        case 3 -> s.replaceFirst("\\{", "{\"" + one(rnd, List.of("wal_senders", "wal_receiver", "lsn", "timeline",
            "force", "allow_failover")) + "\":" + one(rnd, List.of("[{}]", "{\"status\":5}", "\"0/ZZ\"", "-1", "true"))
            + ",");
        case 4 -> s + one(rnd, List.of("}", "]", " x", "\u0000", "{}"));
        default -> s;
      };
    }
    return s;
  }

  private static String junk(Random rnd, int n) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      int k = rnd.nextInt(8);
      if (k < 5) sb.append((char) ('a' + rnd.nextInt(26)));
      else if (k < 7) sb.append("-_.~:%?#&=+ /".charAt(rnd.nextInt(13)));
      else sb.appendCodePoint(one(rnd, List.of(0xe9, 0x20ac, 0x1f600, 0x0, 0x7)));
    }
    return sb.toString();
  }

  private static String printable(Random rnd, int n) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) sb.append((char) (0x21 + rnd.nextInt(0x5e)));
    return sb.toString();
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
