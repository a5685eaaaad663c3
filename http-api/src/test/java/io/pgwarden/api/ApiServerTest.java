package io.pgwarden.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgwarden.model.NodeReport;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.ReportReply;
import io.pgwarden.model.TermSeq;
import io.pgwarden.persistence.Json;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Every route over real HTTP on a loopback port, against the in-memory controller. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ApiServerTest {
  static final String REPORT_JSON = Json.write(NodeReport.initial(NodeState.INIT, TermSeq.NONE, 0));

  ActorTestKit kit;
  FakeController fake;
  ApiServer server;
  TestHttp http;
  ApiClient client;
  String op;
  Path dir;

  @BeforeAll
  void start() throws Exception {
    kit = ActorTestKit.create("api-server-test");
    fake = new FakeController();
    dir = Files.createTempDirectory("pgw-api");
    op = TokenStore.create(dir.resolve("tokens"), "alice");
    TokenStore tokens = TokenStore.open(dir.resolve("tokens"));
    ApiConfig config = ApiConfig.loopback(0).withMaxBodyBytes(4096).withMaxReportWait(Duration.ofMillis(1000))
        .withSseKeepAlive(Duration.ofMillis(200));
    server = ApiServer.start(kit.system(), fake, Authenticator.of(tokens, fake), config);
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

  private Dto.Registration register(String formation, String name, int port) {
    return client.register(formation, new Dto.RegisterNode(name, "127.0.0.1", port, null, null, null));
  }

  private void formation(String name) {
    client.createFormation(new Dto.CreateFormation(name, "app", null, null, "test"));
  }

  // ---- service endpoints -------------------------------------------------------------------------

  @Test
  void healthReadyAndMetrics() {
    TestHttp.Resp h = http.get("/health", null);
    assertEquals(200, h.status());
    assertEquals("ok", h.json().get("status").asText());
    assertTrue(client.health());

    assertEquals(200, http.get("/ready", null).status());
    fake.setReady(false);
    try {
      TestHttp.Resp r = http.get("/ready", null);
      assertEquals(503, r.status());
      assertEquals("unavailable", r.errorCode());
      assertFalse(client.ready());
    } finally {
      fake.setReady(true);
    }
    assertTrue(client.ready());

    TestHttp.Resp anon = http.get("/metrics", null);
    assertEquals(401, anon.status());
    assertEquals("unauthorized", anon.errorCode());
    assertTrue(anon.header("WWW-Authenticate").startsWith("Bearer"), anon.headers().toString());
    TestHttp.Resp m = http.get("/metrics", op);
    assertEquals(200, m.status());
    assertTrue(m.contentType().startsWith("text/plain"), m.contentType());
    assertTrue(m.body().contains("pgwarden_formations "), m.body());
    assertTrue(client.metrics().contains("# TYPE pgwarden_formations gauge"));
  }

  // ---- formations --------------------------------------------------------------------------------

  @Test
  void formationsCreateListGetDrop() {
    TestHttp.Resp c = http.post("/api/v1/formations", op, "{\"name\":\"fa\",\"dbname\":\"app\",\"number_sync_standbys\":0}");
    assertEquals(201, c.status(), c.body());
    assertEquals("/api/v1/formations/fa", c.header("Location"));
    assertEquals("fa", c.json().get("name").asText());
    assertEquals("app", c.json().get("settings").get("dbname").asText());

    TestHttp.Resp dup = http.post("/api/v1/formations", op, "{\"name\":\"fa\"}");
    assertEquals(409, dup.status());
    assertEquals("conflict", dup.errorCode());

    TestHttp.Resp badName = http.post("/api/v1/formations", op, "{\"name\":\"Fa!\"}");
    assertEquals(400, badName.status());
    assertEquals("bad_request", badName.errorCode());

    long before = fake.version();
    TestHttp.Resp badValue = http.post("/api/v1/formations", op, "{\"name\":\"fb\",\"number_sync_standbys\":-1}");
    assertEquals(400, badValue.status(), badValue.body());
    assertTrue(badValue.json().get("message").asText().contains("number_sync_standbys must be >= 0"), badValue.body());
    assertEquals(before, fake.version());

    TestHttp.Resp list = http.get("/api/v1/formations", op);
    assertEquals(200, list.status());
    assertTrue(list.json().get("formations").isArray());
    assertTrue(client.formations().stream().anyMatch(s -> s.name().equals("fa")));
    assertEquals("fa", client.formation("fa").name());
    assertEquals(404, http.get("/api/v1/formations/nope", op).status());

    TestHttp.Resp drop = http.send("DELETE", "/api/v1/formations/fa?reason=done", op, null, (byte[]) null);
    assertEquals(200, drop.status(), drop.body());
    assertTrue(drop.json().get("dropped").asBoolean());
    TestHttp.Resp again = http.send("DELETE", "/api/v1/formations/fa", op, null, (byte[]) null);
    assertEquals(404, again.status());
    assertEquals("not_found", again.errorCode());
    ApiException e = assertThrows(ApiException.class, () -> client.dropFormation("fa", "again"));
    assertEquals(404, e.status());
    assertEquals("not_found", e.code());
  }

  @Test
  void credentialsAreCheckedBeforeAnythingChanges() {
    formation("fc");
    Dto.Registration a = register("fc", "a", 6001);
    Dto.Registration b = register("fc", "b", 6002);
    assertTrue(a.credential().startsWith(Credentials.NODE_PREFIX));
    long v = fake.version();

    // Missing, malformed, unknown and revoked-looking credentials: 401, nothing changes.
    for (String[] auth : new String[][] {
        {}, {"Authorization", "Bearer"}, {"Authorization", "Basic YWxpY2U6c2VjcmV0"},
        {"Authorization", "Bearer pgwo_not-a-real-token"}, {"Authorization", "Bearer pgwn_not-a-real-credential"},
        {"Authorization", "Bearer " + op + "x"}, {"Authorization", "Bearer  "}}) {
      TestHttp.Resp r = http.send("POST", "/api/v1/formations", null, "application/json", "{\"name\":\"fz\"}", auth);
      assertEquals(401, r.status(), String.join(" ", auth) + " -> " + r);
      assertEquals("unauthorized", r.errorCode());
      TestHttp.Resp rep = http.send("POST", "/api/v1/formations/fc/nodes/1/report", null, "application/json",
          REPORT_JSON, auth);
      assertEquals(401, rep.status(), rep.body());
    }
    assertEquals(v, fake.version());

    // A node credential on an operator route: 403, nothing changes.
    for (String path : List.of("/api/v1/formations", "/api/v1/formations/fc/nodes", "/api/v1/formations/fc/actions")) {
      TestHttp.Resp r = http.post(path, a.credential(), "{\"name\":\"x\",\"kind\":\"failover\"}");
      assertEquals(403, r.status(), path + " " + r);
      assertEquals("forbidden", r.errorCode());
    }
    assertEquals(403, http.get("/api/v1/formations/fc/state", a.credential()).status());
    assertEquals(403, http.get("/metrics", a.credential()).status());

    // Node A reporting as node B, or as a node of another formation; an operator reporting: 403.
    TestHttp.Resp asB = http.post("/api/v1/formations/fc/nodes/" + b.nodeId() + "/report", a.credential(), REPORT_JSON);
    assertEquals(403, asB.status(), asB.body());
    assertTrue(asB.json().get("message").asText().contains("only as itself"));
    assertEquals(403, http.post("/api/v1/formations/other/nodes/" + a.nodeId() + "/report", a.credential(), REPORT_JSON)
        .status());
    assertEquals(403, http.post("/api/v1/formations/fc/nodes/" + a.nodeId() + "/report", op, REPORT_JSON).status());
    assertEquals(v, fake.version());

    // As itself: accepted.
    TestHttp.Resp own = http.post("/api/v1/formations/fc/nodes/" + a.nodeId() + "/report", a.credential(), REPORT_JSON);
    assertEquals(200, own.status(), own.body());
    assertEquals("single", own.json().get("goal").get("state").asText());
    assertNotEquals(v, fake.version());
  }

  // ---- nodes and reports -------------------------------------------------------------------------

  @Test
  void registerValidatesAndAnswersWithTheCredential() {
    formation("fr");
    TestHttp.Resp ok = http.post("/api/v1/formations/fr/nodes", op,
        "{\"name\":\"n1\",\"host\":\"127.0.0.1\",\"port\":5433,\"candidate_priority\":90}");
    assertEquals(201, ok.status(), ok.body());
    JsonNode reg = ok.json();
    assertEquals(1, reg.get("node_id").asInt());
    assertTrue(reg.get("credential").asText().startsWith("pgwn_"));
    assertEquals("single", reg.get("goal").get("state").asText());
    assertEquals(90, reg.get("settings").get("candidate_priority").asInt());

    long v = fake.version();
    TestHttp.Resp port = http.post("/api/v1/formations/fr/nodes", op, "{\"name\":\"n2\",\"host\":\"h\",\"port\":70000}");
    assertEquals(400, port.status());
    assertTrue(port.json().get("message").asText().contains("port must be between 1 and 65535"), port.body());
    TestHttp.Resp prio = http.post("/api/v1/formations/fr/nodes", op,
        "{\"name\":\"n2\",\"host\":\"h\",\"port\":5434,\"candidate_priority\":101}");
    assertEquals(400, prio.status());
    assertTrue(prio.json().get("message").asText().contains("candidate priority"), prio.body());
    TestHttp.Resp noPort = http.post("/api/v1/formations/fr/nodes", op, "{\"name\":\"n2\",\"host\":\"h\"}");
    assertEquals(400, noPort.status());
    assertTrue(noPort.json().get("message").asText().contains("port"), noPort.body());
    TestHttp.Resp typo = http.post("/api/v1/formations/fr/nodes", op, "{\"name\":\"n2\",\"host\":\"h\",\"port\":\"x\"}");
    assertEquals(400, typo.status());
    assertEquals("bad_request", typo.errorCode());
    assertFalse(typo.body().contains("io.pgwarden"), "no Java class names in messages: " + typo.body());
    TestHttp.Resp dup = http.post("/api/v1/formations/fr/nodes", op, "{\"name\":\"n1\",\"host\":\"h\",\"port\":5435}");
    assertEquals(409, dup.status());
    TestHttp.Resp nof = http.post("/api/v1/formations/nope/nodes", op, "{\"name\":\"n1\",\"host\":\"h\",\"port\":5435}");
    assertEquals(404, nof.status());
    assertEquals(v, fake.version());
  }

  @Test
  void reportParametersAreValidated() {
    formation("fp");
    Dto.Registration a = register("fp", "a", 6101);
    String path = "/api/v1/formations/fp/nodes/" + a.nodeId() + "/report";
    for (String q : List.of("?known=1", "?known=a.b", "?known=1.2.3", "?known=-1.0", "?wait_ms=-5", "?wait_ms=soon")) {
      TestHttp.Resp r = http.post(path + q, a.credential(), REPORT_JSON);
      assertEquals(400, r.status(), q + " " + r);
      assertEquals("bad_request", r.errorCode());
    }
    assertEquals(404, http.post("/api/v1/formations/fp/nodes/x/report", a.credential(), REPORT_JSON).status());
    TestHttp.Resp badState = http.post(path, a.credential(), REPORT_JSON.replace("\"init\"", "\"flying\""));
    assertEquals(400, badState.status());
    assertTrue(badState.json().get("message").asText().contains("unknown node state 'flying'"), badState.body());
    ReportReply r = new ApiClient(server.baseUri(), a.credential())
        .report("fp", a.nodeId(), NodeReport.initial(NodeState.INIT, TermSeq.NONE, 0), null, Duration.ZERO);
    assertEquals(NodeState.SINGLE, r.goal().state());
    assertEquals("fp", r.formation());
  }

  @Test
  void longPollAnswersAtOnceOnAGoalChangeAndAtTheWaitOtherwise() throws Exception {
    formation("fl");
    Dto.Registration a = register("fl", "a", 6201);
    ApiClient keeper = new ApiClient(server.baseUri(), a.credential());
    NodeReport rep = NodeReport.initial(NodeState.SINGLE, a.goal().stamp(), 1);

    // A goal newer than the known one: no wait at all.
    long t0 = System.nanoTime();
    ReportReply now = keeper.report("fl", a.nodeId(), rep, TermSeq.NONE, Duration.ofMillis(900));
    assertTrue(ms(t0) < 300, "answered in " + ms(t0) + " ms");
    assertEquals(a.goal().stamp(), now.goal().stamp());

    // Nothing changes: held for the wait.
    t0 = System.nanoTime();
    ReportReply held = keeper.report("fl", a.nodeId(), rep, a.goal().stamp(), Duration.ofMillis(400));
    long took = ms(t0);
    assertTrue(took >= 390 && took < 900, "held " + took + " ms");
    assertEquals(a.goal().stamp(), held.goal().stamp());

    // The wait is capped by the server (1000 ms in this test).
    t0 = System.nanoTime();
    keeper.report("fl", a.nodeId(), rep, a.goal().stamp(), Duration.ofMillis(60_000));
    took = ms(t0);
    assertTrue(took >= 990 && took < 1_600, "capped at " + took + " ms");

    // A goal change while held: the answer leaves at once.
    CompletableFuture<ReportReply> pending = keeper.reportAsync("fl", a.nodeId(), rep, a.goal().stamp(), Duration.ofMillis(1000));
    Thread.sleep(250);
    assertFalse(pending.isDone());
    long changed = System.nanoTime();
    TermSeq stamp = fake.setGoal("fl", a.nodeId(), NodeState.WAIT_PRIMARY);
    ReportReply woken = pending.get(2, TimeUnit.SECONDS);
    long latency = ms(changed);
    System.out.println("long-poll latency after a goal change: " + latency + " ms");
    assertTrue(latency < 150, "woken " + latency + " ms after the change");
    assertEquals(NodeState.WAIT_PRIMARY, woken.goal().state());
    assertEquals(stamp, woken.goal().stamp());
  }

  private static long ms(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }

  // ---- views ---------------------------------------------------------------------------------------

  @Test
  void stateUriAndSettings() {
    formation("fv");
    register("fv", "a", 6301);
    register("fv", "b", 6302);
    Dto.FormationState s = client.state("fv");
    assertEquals("fv", s.formation());
    assertEquals(2, s.nodes().size());
    assertEquals(1, s.primaryNodeId());
    assertEquals(NodeState.WAIT_STANDBY, s.nodes().get(1).assignedState());
    TestHttp.Resp raw = http.get("/api/v1/formations/fv/state", op);
    assertEquals(200, raw.status());
    assertEquals("wait_standby", raw.json().get("nodes").get(1).get("assigned_state").asText());

    Dto.Uris u = client.uris("fv");
    assertEquals("postgres://127.0.0.1:6301,127.0.0.1:6302/app?target_session_attrs=read-write", u.postgres());
    assertEquals("jdbc:postgresql://127.0.0.1:6301,127.0.0.1:6302/app?targetServerType=primary", u.jdbc());
    Dto.Settings st = client.settings("fv");
    assertEquals(List.of("a", "b"), st.nodes().stream().map(Dto.NodeSettingsView::name).toList());

    for (String p : List.of("state", "uri", "settings", "events", "events/stream")) {
      TestHttp.Resp r = http.get("/api/v1/formations/none/" + p, op);
      assertEquals(404, r.status(), p + " " + r);
      assertEquals("not_found", r.errorCode());
      assertEquals(401, http.get("/api/v1/formations/fv/" + p, null).status());
    }
  }

  @Test
  void eventsPageBackwards() {
    formation("fe");
    for (int i = 1; i <= 5; i++) register("fe", "n" + i, 6400 + i);
    Dto.EventPage all = client.events("fe", null, null, null);
    assertEquals(11, all.events().size()); // created + 2 per registration
    assertNull(all.nextBefore());
    assertEquals("node.registered", all.events().get(0).type());
    assertEquals("formation-created", all.events().get(10).type());
    assertEquals("fe", all.events().get(10).event().get("formation").asText());

    Dto.EventPage p1 = client.events("fe", null, null, 4);
    assertEquals(4, p1.events().size());
    assertNotNull(p1.nextBefore());
    Dto.EventPage p2 = client.events("fe", p1.nextBefore(), null, 4);
    assertTrue(p2.events().get(0).ordering() < p1.events().get(3).ordering());
    assertEquals(all.events().subList(4, 8), p2.events());

    assertEquals(0, client.events("fe", null, System.currentTimeMillis() + 60_000, null).events().size());
    String iso = Instant.ofEpochMilli(all.events().get(10).at()).toString();
    assertEquals(11, http.get("/api/v1/formations/fe/events?since=" + iso, op).json().get("events").size());

    for (String q : List.of("limit=0", "limit=5000", "limit=x", "before=0", "before=-3", "since=yesterday")) {
      TestHttp.Resp r = http.get("/api/v1/formations/fe/events?" + q, op);
      assertEquals(400, r.status(), q + " " + r);
      assertEquals("bad_request", r.errorCode());
    }
  }

  @Test
  void eventStreamDeliversJournaledEvents() throws Exception {
    formation("fs");
    Dto.Registration a = register("fs", "a", 6501);
    TestHttp.Resp head = http.get("/api/v1/formations/fs/events/stream", op);
    assertEquals(200, head.status());
    assertTrue(head.contentType().startsWith("text/event-stream"), head.contentType());

    // From now on: only what happens after connecting. The client's request timeout (300 ms here)
    // bounds the wait for the answer's headers, not the life of the stream.
    ApiClient impatient = new ApiClient(server.baseUri(), op, Duration.ofMillis(300), null);
    try (Stream<Dto.EventView> events = impatient.streamEvents("fs", null)) {
      Iterator<Dto.EventView> it = events.iterator();
      CompletableFuture.runAsync(() -> {
        sleep(700);
        fake.setGoal("fs", a.nodeId(), NodeState.PRIMARY);
      });
      Dto.EventView e = it.next();
      assertEquals("decided", e.type());
      assertEquals("formation|fs", e.persistenceId());
      assertEquals("primary", e.event().get("goals").get(0).get("state").asText());
    }

    // From the start: replays the formation's history first.
    try (Stream<Dto.EventView> events = client.streamEvents("fs", 0L)) {
      List<String> types = events.limit(4).map(Dto.EventView::type).toList();
      assertEquals(List.of("formation-created", "node-registered", "node.registered", "decided"), types);
    }

    // Resuming with Last-Event-ID, and keep-alives on an idle stream.
    long first = client.events("fs", null, null, 100).events().get(1).ordering();
    HttpRequest req = HttpRequest.newBuilder(URI.create(server.baseUri() + "/api/v1/formations/fs/events/stream"))
        .header("Authorization", "Bearer " + op).header("Last-Event-ID", Long.toString(first)).build();
    HttpResponse<Stream<String>> resp = http.client.send(req, HttpResponse.BodyHandlers.ofLines());
    try (Stream<String> lines = resp.body()) {
      Iterator<String> it = lines.iterator();
      String data = null;
      String id = null;
      long t0 = System.nanoTime();
      int blankLines = 0;
      while (it.hasNext()) {
        String l = it.next();
        if (l.startsWith("data:") && data == null && !l.substring(5).isBlank()) data = l.substring(5).strip();
        if (l.startsWith("id:") && id == null) id = l.substring(3).strip();
        if (l.isEmpty()) blankLines++;
        if (data != null && blankLines >= 3) break; // the event's end, then two keep-alives
        assertTrue(ms(t0) < 3_000, "no keep-alive seen");
      }
      assertEquals("decided", Json.read(data, Dto.EventView.class).type());
      assertEquals(Long.toString(client.events("fs", null, null, 100).events().get(0).ordering()), id);
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ---- actions -----------------------------------------------------------------------------------

  @Test
  void actionsLongAndImmediate() {
    formation("fo");
    register("fo", "a", 6601);
    register("fo", "b", 6602);

    TestHttp.Resp fo = http.post("/api/v1/formations/fo/actions", op, "{\"kind\":\"failover\",\"reason\":\"drill\"}");
    assertEquals(202, fo.status(), fo.body());
    String id = fo.json().get("id").asText();
    assertEquals("/api/v1/formations/fo/operations/" + id, fo.header("Location"));
    assertEquals("alice", fo.json().get("by").get("who").asText());
    assertEquals("drill", fo.json().get("by").get("reason").asText());
    assertFalse(fo.body().contains(op), "the token never leaves in an answer");
    TestHttp.Resp got = http.get(fo.header("Location"), op);
    assertEquals(200, got.status());
    assertEquals("accepted", got.json().get("status").asText());
    fake.finishOperation("fo", id, "succeeded");
    assertEquals("succeeded", client.awaitOperation("fo", id, Duration.ofSeconds(2), Duration.ofMillis(20)).status());

    TestHttp.Resp prio = http.post("/api/v1/formations/fo/actions", op,
        "{\"kind\":\"set-candidate-priority\",\"node\":\"b\",\"value\":75}");
    assertEquals(200, prio.status(), prio.body());
    assertEquals("succeeded", prio.json().get("status").asText());
    assertEquals(75, client.settings("fo").nodes().get(1).candidatePriority());

    long v = fake.version();
    TestHttp.Resp bad = http.post("/api/v1/formations/fo/actions", op,
        "{\"kind\":\"set-candidate-priority\",\"node\":\"b\",\"value\":101}");
    assertEquals(400, bad.status());
    assertTrue(bad.json().get("message").asText().contains("candidate priority must be between 0 and 100"), bad.body());
    TestHttp.Resp unknown = http.post("/api/v1/formations/fo/actions", op, "{\"kind\":\"reboot\"}");
    assertEquals(400, unknown.status());
    assertTrue(unknown.json().get("message").asText().contains("unknown action kind 'reboot'"));
    assertEquals(400, http.post("/api/v1/formations/fo/actions", op, "{\"reason\":\"x\"}").status());
    assertEquals(404, http.post("/api/v1/formations/fo/actions", op, "{\"kind\":\"promotion\",\"node\":\"zz\"}").status());
    assertEquals(404, http.post("/api/v1/formations/nope/actions", op, "{\"kind\":\"failover\"}").status());
    assertEquals(404, http.get("/api/v1/formations/fo/operations/op-999999", op).status());
    assertEquals(v, fake.version());
  }

  @Test
  void idempotentRetriesReturnTheSameOperation() {
    formation("fi");
    register("fi", "a", 6701);
    register("fi", "b", 6702);
    String body = "{\"kind\":\"switchover\",\"reason\":\"patch\",\"idempotency_key\":\"k-1\"}";
    TestHttp.Resp first = http.post("/api/v1/formations/fi/actions", op, body);
    assertEquals(202, first.status(), first.body());
    long v = fake.version();
    TestHttp.Resp retry = http.post("/api/v1/formations/fi/actions", op, body);
    assertEquals(202, retry.status());
    assertEquals(first.json().get("id"), retry.json().get("id"));
    assertEquals(first.header("Location"), retry.header("Location"));
    assertEquals("k-1", retry.json().get("by").get("idempotency_key").asText());
    assertEquals(v, fake.version(), "a retry changes nothing");

    // The key as a header, with the client retrying.
    Dto.OperatorRequest req = new Dto.OperatorRequest("maintenance-on", "b", null, null, null, "disk", "k-2");
    Dto.Operation o1 = client.perform("fi", req);
    Dto.Operation o2 = client.perform("fi", req);
    assertEquals(o1.id(), o2.id());
    TestHttp.Resp viaHeader = http.post("/api/v1/formations/fi/actions", op,
        "{\"kind\":\"maintenance-on\",\"node\":\"b\"}", "Idempotency-Key", "k-2");
    assertEquals(o1.id(), viaHeader.json().get("id").asText());

    TestHttp.Resp differ = http.post("/api/v1/formations/fi/actions", op,
        "{\"kind\":\"maintenance-on\",\"node\":\"b\",\"idempotency_key\":\"k-3\"}", "Idempotency-Key", "k-4");
    assertEquals(400, differ.status());
    TestHttp.Resp reused = http.post("/api/v1/formations/fi/actions", op, "{\"kind\":\"failover\"}", "Idempotency-Key", "k-1");
    assertEquals(409, reused.status());
    assertEquals("conflict", reused.errorCode());
    assertEquals(400, http.post("/api/v1/formations/fi/actions", op, "{\"kind\":\"failover\"}",
        "Idempotency-Key", "x".repeat(201)).status());
  }

  // ---- the error model ---------------------------------------------------------------------------

  @Test
  void badRequestsGetJsonErrors() {
    formation("fx");
    long v = fake.version();
    TestHttp.Resp malformed = http.post("/api/v1/formations", op, "{\"name\": \"fy\",");
    assertEquals(400, malformed.status());
    assertEquals("malformed_json", malformed.errorCode());
    TestHttp.Resp notObject = http.post("/api/v1/formations", op, "[1,2]");
    assertEquals(400, notObject.status());
    TestHttp.Resp jsonNull = http.post("/api/v1/formations", op, "null");
    assertEquals(400, jsonNull.status());
    assertEquals("bad_request", jsonNull.errorCode());
    TestHttp.Resp empty = http.post("/api/v1/formations", op, "");
    assertEquals(400, empty.status(), empty.body());
    TestHttp.Resp deep = http.post("/api/v1/formations", op, "[".repeat(2000) + "]".repeat(2000));
    assertEquals(400, deep.status(), deep.body());

    TestHttp.Resp text = http.send("POST", "/api/v1/formations", op, "text/plain", "{\"name\":\"fy\"}");
    assertEquals(415, text.status());
    assertEquals("unsupported_media_type", text.errorCode());
    TestHttp.Resp none = http.send("POST", "/api/v1/formations", op, null, "{\"name\":\"fy\"}");
    assertEquals(415, none.status());

    TestHttp.Resp big = http.post("/api/v1/formations", op, "{\"name\":\"fy\",\"reason\":\"" + "x".repeat(5000) + "\"}");
    assertEquals(413, big.status(), big.body());
    assertEquals("payload_too_large", big.errorCode());
    TestHttp.Resp bigReport = http.post("/api/v1/formations/fx/nodes/1/report", op, "x".repeat(100_000));
    assertTrue(bigReport.status() == 413 || bigReport.status() == 403, bigReport.toString());

    TestHttp.Resp put = http.send("PUT", "/api/v1/formations", op, "application/json", "{}");
    assertEquals(405, put.status());
    assertEquals("method_not_allowed", put.errorCode());
    assertTrue(put.header("Allow").contains("GET") && put.header("Allow").contains("POST"), put.header("Allow"));
    assertEquals(405, http.send("PATCH", "/api/v1/formations/fx/state", op, null, (byte[]) null).status());
    assertEquals(405, http.send("DELETE", "/health", null, null, (byte[]) null).status());

    TestHttp.Resp missing = http.get("/api/v2/formations", op);
    assertEquals(404, missing.status());
    assertEquals("not_found", missing.errorCode());
    assertEquals(404, http.get("/", null).status());
    assertEquals(404, http.get("/api/v1/formations/fx/", op).status());

    TestHttp.Resp html = http.send("GET", "/api/v1/formations", op, null, (byte[]) null, "Accept", "text/html");
    assertEquals(200, html.status());
    assertTrue(html.contentType().startsWith("application/json"));
    TestHttp.Resp htmlErr = http.send("GET", "/api/v1/formations/none/state", op, null, (byte[]) null, "Accept", "text/html");
    assertEquals(404, htmlErr.status());
    assertEquals("not_found", htmlErr.errorCode());
    assertEquals(v, fake.version());
  }

  @Test
  void clientRaisesTypedErrors() {
    ApiException nf = assertThrows(ApiException.class, () -> client.state("nope"));
    assertEquals(404, nf.status());
    assertEquals("not_found", nf.code());
    assertTrue(nf.getMessage().contains("nope"));
    ApiException unauth = assertThrows(ApiException.class, () -> new ApiClient(server.baseUri(), "pgwo_x").formations());
    assertEquals(401, unauth.status());
    ApiClient nowhere = new ApiClient(URI.create("http://127.0.0.1:" + io.pgwarden.testing.TestPostgres.freePort()), op,
        Duration.ofSeconds(2), null);
    ApiException down = assertThrows(ApiException.class, nowhere::formations);
    assertEquals(0, down.status());
    assertEquals("unreachable", down.code());
    assertFalse(nowhere.health());
    assertEquals("bad_request", ApiClient.error(400, "{\"error\":\"bad_request\",\"message\":\"m\"}").code());
    assertEquals("http_418", ApiClient.error(418, "teapot").code());
  }
}
