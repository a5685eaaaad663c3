package io.pgwarden.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.pgwarden.model.NodeReport;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.Requester;
import io.pgwarden.model.TermSeq;
import io.pgwarden.persistence.Json;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Thousands of random requests: methods, paths, query strings, credentials, content types, bodies and
 * headers, most of them wrong. Every answer must be JSON with a 4xx status, or a 2xx for the rare
 * valid request; the controller's state may change only with a 2xx answer; the server keeps serving.
 * Reproduce a failure with -Dfuzz.seed=N (the seed is printed), size it with -Dfuzz.requests=N.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ApiFuzzTest {
  static final String F = "ff";
  static final int MAX_BODY = 4096;

  ActorTestKit kit;
  FakeController fake;
  ApiServer server;
  TestHttp http;
  ApiClient client;
  String op;
  Path dir;
  final Map<Integer, String> nodeCredentials = new TreeMap<>();
  int nodeNames;

  @BeforeAll
  void start() throws Exception {
    kit = ActorTestKit.create("api-fuzz-test");
    fake = new FakeController();
    dir = Files.createTempDirectory("pgw-fuzz");
    op = TokenStore.create(dir.resolve("tokens"), "fuzzer");
    ApiConfig config = ApiConfig.loopback(0).withMaxBodyBytes(MAX_BODY).withMaxReportWait(Duration.ofMillis(20))
        .withSseKeepAlive(Duration.ofMillis(500));
    server = ApiServer.start(kit.system(), fake, Authenticator.of(TokenStore.open(dir.resolve("tokens")), fake), config);
    http = new TestHttp(server.baseUri());
    client = new ApiClient(server.baseUri(), op);
  }

  @AfterAll
  void stop() {
    server.close();
    kit.shutdownTestKit();
    fake.close();
    io.pgwarden.testing.TestPostgres.deleteTree(dir);
  }

  /** Keeps the formation the fuzzer aims at alive, with two nodes whose credentials it knows. */
  private void ensureTarget() throws Exception {
    if (fake.formations().toCompletableFuture().get().stream().noneMatch(s -> s.name().equals(F))) {
      fake.createFormation(new Dto.CreateFormation(F, null, null, null, "fuzz target"), Requester.CONTROLLER)
          .toCompletableFuture().get();
      nodeCredentials.clear();
    }
    List<Integer> present = fake.state(F).toCompletableFuture().get().nodes().stream().map(Dto.NodeView::nodeId).toList();
    nodeCredentials.keySet().retainAll(present);
    while (nodeCredentials.size() < 2) {
      int n = ++nodeNames;
      Dto.Registration r = fake.register(F, new Dto.RegisterNode("n" + n, "127.0.0.1", 7000 + n, null, null, null))
          .toCompletableFuture().get();
      nodeCredentials.put(r.nodeId(), r.credential());
    }
  }

  @Test
  void randomRequestsGetJsonAnswersAndChangeNothingWhenRefused() throws Exception {
    long seed = Long.getLong("fuzz.seed", System.nanoTime());
    int count = Integer.getInteger("fuzz.requests", 3000);
    System.out.println("ApiFuzzTest seed " + seed + " (rerun with -Dfuzz.seed=" + seed + "), " + count + " requests");
    Random rnd = new Random(seed);
    Map<Integer, Integer> statuses = new TreeMap<>();
    long t0 = System.nanoTime();
    ensureTarget();
    for (int i = 0; i < count; i++) {
      Req req = randomRequest(rnd);
      long before = fake.version();
      TestHttp.Resp r;
      try {
        r = http.send(req.method, req.path, null, req.contentType, req.body, req.headers.toArray(new String[0]));
      } catch (RuntimeException e) {
        // A body over the limit may be cut off by the server closing the connection after its early
        // answer (RFC 9112 allows it); anything smaller must be answered.
        if (req.body != null && req.body.length > MAX_BODY && fake.version() == before) {
          statuses.merge(-1, 1, Integer::sum);
          continue;
        }
        throw new AssertionError("seed " + seed + " request " + i + " " + req + " got no answer", e);
      }
      long after = fake.version();
      if (statuses.merge(r.status(), 1, Integer::sum) <= 2 && Boolean.getBoolean("fuzz.show")) {
        System.out.println("example " + req + " -> " + r);
      }
      String where = "seed " + seed + " request " + i + " " + req + " -> " + r.status() + " " + r.body();
      int s = r.status();
      boolean success = s == 200 || s == 201 || s == 202;
      if (!success && (s < 400 || s > 499)) fail("unexpected status: " + where);
      if (after != before && !success) fail("state changed by a refused request: " + where);
      if (req.method.equals("HEAD")) continue;
      if (r.contentType().startsWith("text/event-stream")) {
        assertEquals(200, s, where);
        continue;
      }
      if (success && req.path.startsWith("/metrics")) {
        assertTrue(r.contentType().startsWith("text/plain"), where);
        continue;
      }
      assertTrue(r.contentType().startsWith("application/json"), "not JSON: " + where + " " + r.contentType());
      if (success) {
        r.json();
      } else {
        r.errorCode();
      }
      if (after != before) ensureTarget();
    }
    System.out.println("ApiFuzzTest statuses " + statuses + " in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
    assertTrue(statuses.keySet().stream().anyMatch(s -> s >= 200 && s < 300), "some requests should succeed");

    // Still serving, and still doing the right thing.
    assertTrue(client.health());
    client.createFormation(new Dto.CreateFormation("after-fuzz", null, null, null, null));
    assertTrue(client.formations().stream().anyMatch(f -> f.name().equals("after-fuzz")));
  }

  /** Requests the HTTP layer itself must refuse, sent over a raw socket: answered as JSON, never a hang. */
  @Test
  void rawGarbageIsAnsweredAsJson() throws Exception {
    long seed = Long.getLong("fuzz.seed", System.nanoTime());
    System.out.println("ApiFuzzTest raw seed " + seed);
    Random rnd = new Random(seed);
    List<byte[]> cases = new ArrayList<>();
    for (String s : List.of(
        "FROB /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET /health HTTP/9.9\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET /%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET /" + "a".repeat(5000) + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + "b".repeat(20_000) + "\r\nConnection: close\r\n\r\n",
        "POST /api/v1/formations HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{",
        "POST /api/v1/formations HTTP/1.1\r\nHost: x\r\nContent-Length: -4\r\nConnection: close\r\n\r\n",
        "POST /api/v1/formations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\nConnection: close\r\n\r\n",
        "GET /health HTTP/1.1\r\nHost: x\r\nbroken header line\r\nConnection: close\r\n\r\n")) {
      cases.add(s.getBytes(StandardCharsets.ISO_8859_1));
    }
    for (int i = 0; i < 40; i++) {
      byte[] junk = new byte[1 + rnd.nextInt(200)];
      rnd.nextBytes(junk);
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      b.write(junk);
      b.write("\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      cases.add(b.toByteArray());
    }
    int answered = 0;
    int structured = cases.size() - 40;
    for (int k = 0; k < cases.size(); k++) {
      byte[] c = cases.get(k);
      long t = System.nanoTime();
      // Random bytes may look like the start of a request the server waits to see finished: wait less.
      String answer = raw(c, k < structured ? 1000 : 300);
      long took = (System.nanoTime() - t) / 1_000_000;
      if (took > 500) System.out.println("raw case took " + took + " ms: " + new String(c, 0, Math.min(60, c.length), StandardCharsets.ISO_8859_1));
      if (answer.isEmpty()) continue; // the server may just close a connection that is not HTTP at all
      answered++;
      String shown = answer.length() > 200 ? answer.substring(0, 200) : answer;
      assertTrue(answer.startsWith("HTTP/1.1 4") || answer.startsWith("HTTP/1.1 5"), shown);
      int status = Integer.parseInt(answer.substring(9, 12));
      assertTrue(status >= 400 && status != 500, shown);
      assertTrue(answer.toLowerCase().contains("content-type: application/json"), shown);
      int bodyAt = answer.indexOf("\r\n\r\n");
      String body = answer.substring(bodyAt + 4);
      assertTrue(Json.MAPPER.readTree(body).hasNonNull("error"), shown);
    }
    assertTrue(answered >= 9, "the well-formed-but-wrong requests are all answered, got " + answered);
    assertTrue(client.health());
  }

  private String raw(byte[] request, int timeoutMs) throws Exception {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
      s.setSoTimeout(timeoutMs);
      OutputStream out = s.getOutputStream();
      try {
        out.write(request);
        out.flush();
      } catch (java.io.IOException e) {
        return ""; // the server closed first
      }
      InputStream in = s.getInputStream();
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      byte[] buf = new byte[8192];
      try {
        for (int n; (n = in.read(buf)) > 0; ) got.write(buf, 0, n);
      } catch (SocketTimeoutException e) {
        // whatever came before the timeout
      } catch (java.io.IOException e) {
        // reset by the server after its answer
      }
      return got.toString(StandardCharsets.ISO_8859_1);
    }
  }

  // ---- random requests ---------------------------------------------------------------------------

  record Req(String method, String path, String contentType, byte[] body, List<String> headers) {
    @Override
    public String toString() {
      String b = body == null ? "-" : new String(body, StandardCharsets.UTF_8);
      if (b.length() > 160) b = b.substring(0, 160) + "...(" + body.length + " bytes)";
      return method + " " + path + " [" + contentType + "] " + headers + " " + b;
    }
  }

  static final String[] METHODS = {"GET", "GET", "GET", "POST", "POST", "POST", "POST", "DELETE", "PUT", "PATCH",
      "OPTIONS", "HEAD"};
  static final String[] FIELDS = {"name", "dbname", "number_sync_standbys", "failover_data_loss_allowed", "reason",
      "host", "port", "keeper_api", "candidate_priority", "replication_quorum", "kind", "node", "allow_failover",
      "force", "value", "idempotency_key", "state", "executed", "known_term", "pg", "in_recovery", "system_identifier",
      "timeline", "lsn", "replay_lsn", "sync_standby_names", "wal_senders", "wal_receiver", "fenced", "term", "seq"};
  static final String[] KINDS = {"failover", "switchover", "promotion", "maintenance-on", "maintenance-off", "drop-node",
      "set-candidate-priority", "set-replication-quorum", "set-number-sync-standbys", "set-failover-data-loss-allowed",
      "reboot", "", "FAILOVER"};

  private static <T> T pick(Random rnd, T[] xs) {
    return xs[rnd.nextInt(xs.length)];
  }

  private String formationSegment(Random rnd) {
    return switch (rnd.nextInt(10)) {
      case 0 -> "f" + rnd.nextInt(5);
      case 1 -> enc(randomString(rnd, 1 + rnd.nextInt(80)));
      case 2 -> pick(rnd, new String[] {"..", "%2e%2e", "%00", "%2F", "Fa", "a%20b", "%E2%82%AC", "x".repeat(300)});
      default -> F;
    };
  }

  private String nodeSegment(Random rnd) {
    return switch (rnd.nextInt(8)) {
      case 0 -> pick(rnd, new String[] {"-1", "0", "x", "99999999999", "1.5", "%31", ""});
      case 1 -> Integer.toString(rnd.nextInt(10));
      default -> Integer.toString(nodeCredentials.keySet().stream().skip(rnd.nextInt(Math.max(1, nodeCredentials.size())))
          .findFirst().orElse(1));
    };
  }

  private String query(Random rnd, String... names) {
    if (rnd.nextInt(3) == 0) return "";
    List<String> parts = new ArrayList<>();
    int n = 1 + rnd.nextInt(3);
    for (int i = 0; i < n; i++) {
      String name = rnd.nextInt(5) == 0 ? enc(randomString(rnd, 4)) : pick(rnd, names);
      String value = switch (rnd.nextInt(6)) {
        case 0 -> Long.toString(rnd.nextLong());
        case 1 -> Integer.toString(rnd.nextInt(200) - 20);
        case 2 -> rnd.nextInt(50) + "." + rnd.nextInt(50);
        case 3 -> enc(randomString(rnd, rnd.nextInt(20)));
        case 4 -> "2026-11-25T19:00:00Z";
        default -> "";
      };
      parts.add(name + "=" + value);
    }
    return "?" + String.join("&", parts);
  }

  /** A path and the method that route answers (most requests use it, the rest a random one). */
  private String[] path(Random rnd) {
    String f = formationSegment(rnd);
    String base = "/api/v1/formations/" + f;
    return switch (rnd.nextInt(17)) {
      case 0 -> new String[] {"/health", "GET"};
      case 1 -> new String[] {"/ready", "GET"};
      case 2 -> new String[] {"/metrics", "GET"};
      case 3 -> new String[] {"/api/v1/formations", rnd.nextBoolean() ? "GET" : "POST"};
      case 4 -> new String[] {base, rnd.nextInt(4) == 0 ? "DELETE" : "GET"};
      case 5 -> new String[] {base + "/nodes", "POST"};
      case 6, 7 -> new String[] {base + "/nodes/" + nodeSegment(rnd) + "/report" + query(rnd, "known", "wait_ms"), "POST"};
      case 8 -> new String[] {base + "/state", "GET"};
      case 9 -> new String[] {base + "/uri", "GET"};
      case 10 -> new String[] {base + "/settings", "GET"};
      case 11 -> new String[] {base + "/events" + query(rnd, "before", "since", "limit"), "GET"};
      case 12 -> new String[] {base + "/events/stream" + query(rnd, "after"), "GET"};
      case 13 -> new String[] {base + "/operations/" + (rnd.nextBoolean() ? "op-" + rnd.nextInt(20)
          : enc(randomString(rnd, 10))), "GET"};
      case 14, 15 -> new String[] {base + "/actions", "POST"};
      default -> new String[] {"/" + enc(randomString(rnd, rnd.nextInt(30))) + (rnd.nextBoolean() ? "/api/v1" : ""), "GET"};
    };
  }

  private Req randomRequest(Random rnd) {
    String[] target = path(rnd);
    String path = target[0];
    String method = rnd.nextInt(10) < 7 ? target[1] : pick(rnd, METHODS);
    List<String> headers = new ArrayList<>();
    switch (rnd.nextInt(10)) {
      case 0 -> { } // no credential
      case 1 -> headers.addAll(List.of("Authorization", "Bearer " + randomToken(rnd)));
      case 2 -> headers.addAll(List.of("Authorization", pick(rnd, new String[] {"Basic Zm9vOmJhcg==", "Bearer", "bearer  x y",
          "Token abc", "Bearer " + op.substring(0, op.length() - 1)})));
      case 3, 4 -> headers.addAll(List.of("Authorization", "Bearer " + nodeCredentials.values().stream()
          .skip(rnd.nextInt(nodeCredentials.size())).findFirst().orElseThrow()));
      default -> headers.addAll(List.of("Authorization", "Bearer " + op));
    }
    String contentType = switch (rnd.nextInt(10)) {
      case 0 -> null;
      case 1 -> "text/plain";
      case 2 -> "application/x-www-form-urlencoded";
      case 3 -> "application/json; charset=utf-8";
      case 4 -> pick(rnd, new String[] {"multipart/form-data; boundary=x", "application/xml", "text/json", "*/*"});
      default -> "application/json";
    };
    if (rnd.nextInt(4) == 0) headers.addAll(List.of("Idempotency-Key", rnd.nextBoolean() ? "k" + rnd.nextInt(5)
        : printable(rnd, 1 + rnd.nextInt(250))));
    if (rnd.nextInt(6) == 0) headers.addAll(List.of("Accept", pick(rnd, new String[] {"text/html", "application/xml",
        "*/*", "text/event-stream", "image/png;q=0.1"})));
    if (rnd.nextInt(8) == 0) headers.addAll(List.of("Last-Event-ID", printable(rnd, 1 + rnd.nextInt(10))));
    if (rnd.nextInt(8) == 0) headers.addAll(List.of("X-Junk-" + rnd.nextInt(100), printable(rnd, 1 + rnd.nextInt(40))));
    byte[] body = method.equals("GET") && rnd.nextInt(3) > 0 ? null : body(rnd);
    return new Req(method, path, contentType, body, headers);
  }

  private String randomToken(Random rnd) {
    String prefix = pick(rnd, new String[] {"pgwo_", "pgwn_", "", "pgwx_"});
    return prefix + printable(rnd, 1 + rnd.nextInt(60)).replace(' ', '_');
  }

  private byte[] body(Random rnd) {
    return switch (rnd.nextInt(12)) {
      case 0 -> null;
      case 1 -> {
        byte[] b = new byte[rnd.nextInt(300)];
        rnd.nextBytes(b);
        yield b;
      }
      case 2 -> ("{\"reason\":\"" + "x".repeat(4096 + rnd.nextInt(20_000)) + "\"}").getBytes(StandardCharsets.UTF_8);
      case 3 -> {
        String t = template(rnd);
        yield t.substring(0, rnd.nextInt(t.length() + 1)).getBytes(StandardCharsets.UTF_8);
      }
      case 4, 5 -> randomJson(rnd, 0).getBytes(StandardCharsets.UTF_8);
      default -> mutate(rnd, template(rnd)).getBytes(StandardCharsets.UTF_8);
    };
  }

  private String template(Random rnd) {
    return switch (rnd.nextInt(5)) {
      case 0 -> "{\"name\":\"f" + rnd.nextInt(8) + "\",\"dbname\":\"app\",\"number_sync_standbys\":" + (rnd.nextInt(4) - 1)
          + ",\"reason\":\"fuzz\"}";
      case 1 -> "{\"name\":\"m" + rnd.nextInt(50) + "\",\"host\":\"127.0.0.1\",\"port\":" + (rnd.nextInt(70_000) - 10)
          + ",\"candidate_priority\":" + (rnd.nextInt(130) - 10) + ",\"replication_quorum\":true}";
      case 2 -> Json.write(NodeReport.initial(pick(rnd, NodeState.values()), new TermSeq(rnd.nextInt(3), rnd.nextInt(9)),
          rnd.nextInt(5)));
      default -> "{\"kind\":\"" + pick(rnd, KINDS) + "\",\"node\":\"n" + rnd.nextInt(6) + "\",\"value\":"
          + (rnd.nextInt(300) - 50) + ",\"reason\":\"fuzz\"" + (rnd.nextBoolean() ? ",\"idempotency_key\":\"k" + rnd.nextInt(5)
          + "\"" : "") + "}";
    };
  }

  /** Changes one or two things in a valid-looking body: a value's type, a number's range, a field's name. */
  private String mutate(Random rnd, String json) {
    String s = json;
    int edits = rnd.nextInt(3);
    for (int i = 0; i < edits; i++) {
      s = switch (rnd.nextInt(6)) {
        case 0 -> s.replaceFirst(":\\s*-?\\d+", q(":" + pick(rnd, new String[] {"\"12\"", "1e400", "-9223372036854775809",
            "99999999999999999999", "null", "[]", "{}", "1.5", "true"})));
        case 1 -> s.replaceFirst("\"[a-z_]+\":", q("\"" + pick(rnd, FIELDS) + "\":"));
        case 2 -> s.replaceFirst(":\\s*\"[^\"]*\"", q(":" + pick(rnd, new String[] {"null", "42", "\"\"", "\"\\u0000\"",
            "\"" + printable(rnd, 70).replace("\\", "/").replace("\"", "'") + "\"", "{\"a\":1}"})));
        case 3 -> s.replaceFirst(",", q(",\"" + pick(rnd, FIELDS) + "\":" + randomJson(rnd, 2) + ","));
        case 4 -> s + pick(rnd, new String[] {"}", " trailing", "\n", "{}"});
        default -> s;
      };
    }
    return s;
  }

  private static String q(String replacement) {
    return java.util.regex.Matcher.quoteReplacement(replacement);
  }

  private String randomJson(Random rnd, int depth) {
    int choice = depth > 3 ? rnd.nextInt(5) : rnd.nextInt(8);
    return switch (choice) {
      case 0 -> "null";
      case 1 -> Boolean.toString(rnd.nextBoolean());
      case 2 -> Long.toString(rnd.nextLong() >> rnd.nextInt(64));
      case 3 -> Double.toString(rnd.nextGaussian() * 1e6);
      case 4 -> Json.write(randomString(rnd, rnd.nextInt(20)));
      case 5 -> {
        List<String> xs = new ArrayList<>();
        for (int i = rnd.nextInt(4); i > 0; i--) xs.add(randomJson(rnd, depth + 1));
        yield "[" + String.join(",", xs) + "]";
      }
      default -> {
        List<String> xs = new ArrayList<>();
        for (int i = rnd.nextInt(6); i > 0; i--) {
          String key = rnd.nextInt(4) == 0 ? randomString(rnd, 5) : pick(rnd, FIELDS);
          xs.add(Json.write(key) + ":" + randomJson(rnd, depth + 1));
        }
        yield "{" + String.join(",", xs) + "}";
      }
    };
  }

  private static String randomString(Random rnd, int n) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      int k = rnd.nextInt(10);
      if (k < 6) sb.append((char) ('a' + rnd.nextInt(26)));
      else if (k < 8) sb.append("-_./:%?#&=+ 0129".charAt(rnd.nextInt(16)));
      else if (k < 9) sb.append((char) (0x20 + rnd.nextInt(0x5f)));
      else sb.appendCodePoint(new int[] {0x00e9, 0x20ac, 0x1f600, 0x0000, 0x0007, 0x4e2d}[rnd.nextInt(6)]);
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
