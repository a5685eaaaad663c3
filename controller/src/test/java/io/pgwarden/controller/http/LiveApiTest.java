package io.pgwarden.controller.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgwarden.api.ApiClient;
import io.pgwarden.api.Dto;
import io.pgwarden.model.Lsn;
import io.pgwarden.model.NodeReport;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.PgStatus;
import io.pgwarden.model.ReportReply;
import io.pgwarden.model.TermSeq;
import io.pgwarden.model.WalReceiverInfo;
import io.pgwarden.persistence.Json;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Every route of the API over real HTTP against the real controller ({@link LiveController}): success
 * and error statuses and bodies, the credential rules, idempotent retries, the long-poll, the event
 * stream, and bodies that are malformed, too large or of the wrong type. Formation "app" has two
 * idealised keepers (a primary and a secondary) that follow every goal.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LiveApiTest {
  static final String F = "/api/v1/formations";
  LiveController c;
  RawHttp http;
  String op;
  SimKeepers app;

  @BeforeAll
  void start() {
    c = LiveController.start("api", LiveController.FAST);
    http = new RawHttp(c.base);
    op = c.operatorToken;
    c.api.createFormation(new Dto.CreateFormation("app", "shop", null, null, "live api test"));
    app = c.keepers("app");
    app.add("a");
    SimKeepers.await(() -> app.node("a").state() == NodeState.SINGLE, Duration.ofSeconds(10), "a single");
    app.add("b");
    app.awaitSettled(Duration.ofSeconds(10));
  }

  @AfterAll
  void stop() {
    c.close();
  }

  static void assertError(RawHttp.Resp r, int status, String code) {
    assertEquals(status, r.status(), r.toString());
    assertTrue(r.contentType().startsWith("application/json"), r + " " + r.contentType());
    assertEquals(code, r.error(), r.toString());
  }

  // ---- service endpoints ----------------------------------------------------------------------------

  @Test
  void serviceEndpoints() {
    RawHttp.Resp h = http.get("/health", null);
    assertEquals(200, h.status());
    assertEquals("ok", h.json().path("status").asText());
    assertEquals("ready", http.get("/ready", null).json().path("status").asText());
    RawHttp.Resp head = http.send("HEAD", "/health", null, null, (byte[]) null);
    assertEquals(200, head.status());
    assertEquals("", head.body());

    RawHttp.Resp noToken = http.get("/metrics", null);
    assertError(noToken, 401, "unauthorized");
    assertTrue(noToken.header("WWW-Authenticate").startsWith("Bearer"), noToken.headers().toString());
    RawHttp.Resp m = http.get("/metrics", op);
    assertEquals(200, m.status());
    assertTrue(m.contentType().startsWith("text/plain"), m.contentType());
    assertTrue(m.body().contains("pgwarden_"), m.body());
    assertError(http.get("/metrics", app.node("a").credential), 403, "forbidden");

    assertError(http.get("/api/v1/nothing/here", op), 404, "not_found");
    RawHttp.Resp put = http.send("PUT", F, op, "application/json", "{}");
    assertError(put, 405, "method_not_allowed");
    assertNotNull(put.header("Allow"), put.headers().toString());
  }

  // ---- formations ---------------------------------------------------------------------------------

  @Test
  void formations() {
    RawHttp.Resp created = http.post(F, op, "{\"name\":\"tmp\",\"dbname\":\"inventory\",\"reason\":\"test\"}");
    assertEquals(201, created.status(), created.toString());
    assertEquals(F + "/tmp", created.header("Location"));
    Dto.FormationSummary s = created.as(Dto.FormationSummary.class);
    assertEquals("tmp", s.name());
    assertEquals("inventory", s.settings().dbname());
    assertEquals(0, s.nodes());

    assertError(http.post(F, op, "{\"name\":\"tmp\"}"), 409, "conflict");
    assertError(http.post(F, op, "{\"name\":\"Not A Name\"}"), 400, "bad_request");
    assertError(http.post(F, op, "{\"name\":\"t2\",\"number_sync_standbys\":\"lots\"}"), 400, "bad_request");
    assertError(http.post(F, op, "{\"name\":\"t2\",\"number_sync_standbys\":-1}"), 400, "bad_request");
    assertError(http.post(F, op, "{\"name\":"), 400, "malformed_json");
    assertError(http.post(F, op, "null"), 400, "bad_request");
    assertError(http.post(F, op, "[1,2]"), 400, "bad_request");
    assertError(http.post(F, op, ""), 400, "bad_request");
    assertError(http.send("POST", F, op, "text/plain", "name=t2"), 415, "unsupported_media_type");
    assertError(http.post(F, op, "{\"name\":\"t2\",\"reason\":\"" + "x".repeat(300 * 1024) + "\"}"), 413,
        "payload_too_large");
    assertError(http.post(F, null, "{\"name\":\"t2\"}"), 401, "unauthorized");
    assertError(http.post(F, "pgwo_" + "A".repeat(43), "{\"name\":\"t2\"}"), 401, "unauthorized");
    assertError(http.post(F, app.node("a").credential, "{\"name\":\"t2\"}"), 403, "forbidden");

    JsonNode list = http.get(F, op).json().path("formations");
    List<String> names = new ArrayList<>();
    list.forEach(n -> names.add(n.path("name").asText()));
    assertTrue(names.containsAll(List.of("app", "tmp")), names.toString());
    assertTrue(!names.contains("t2"), "refused creations created nothing: " + names);
    assertEquals("tmp", http.get(F + "/tmp", op).as(Dto.FormationSummary.class).name());
    assertError(http.get(F + "/nope", op), 404, "not_found");

    assertError(http.send("DELETE", F + "/app", op, null, (byte[]) null), 409, "conflict"); // it has nodes
    assertError(http.send("DELETE", F + "/nope", op, null, (byte[]) null), 404, "not_found");
    RawHttp.Resp dropped = http.send("DELETE", F + "/tmp?reason=done", op, null, (byte[]) null);
    assertEquals(200, dropped.status(), dropped.toString());
    assertTrue(dropped.json().path("dropped").asBoolean());
    assertError(http.get(F + "/tmp", op), 404, "not_found");
    assertError(http.get(F + "/tmp/state", op), 404, "not_found");
  }

  // ---- nodes: registration, credentials, reports, the long-poll -------------------------------------

  static NodeReport report(NodeState s, TermSeq executed, long term, boolean standby, Integer upstream) {
    return new NodeReport(s, executed, term, PgStatus.RUNNING, standby, 7, 1, Lsn.parse("0/3000000"),
        Lsn.parse("0/3000000"), "", List.of(), standby ? new WalReceiverInfo("streaming", upstream, "127.0.0.1", 0, 1,
            20L) : null, null, false, null, null);
  }

  @Test
  void registrationCredentialsReportsAndTheLongPoll() throws Exception {
    c.api.createFormation(new Dto.CreateFormation("creds", null, null, null, null));
    SimKeepers k = c.keepers("creds");
    String nodes = F + "/creds/nodes";
    String body = "{\"name\":\"x\",\"host\":\"127.0.0.1\",\"port\":%d,\"candidate_priority\":60}";

    // refusals first: none of them registers anything
    assertError(http.post(nodes, op, String.format(body, 70_000)), 400, "bad_request");
    assertError(http.post(nodes, op, "{\"name\":\"x\",\"host\":\"127.0.0.1\",\"port\":\"five\"}"), 400,
        "bad_request");
    assertError(http.post(nodes, op, "{\"name\":\"x\",\"host\":\"127.0.0.1\",\"port\":5432,\"candidate_priority\":101}"),
        400, "bad_request");
    assertError(http.post(F + "/nope/nodes", op, String.format(body, 5432)), 404, "not_found");
    assertError(http.post(nodes, null, String.format(body, 5432)), 401, "unauthorized");
    assertEquals(0, c.api.state("creds").nodes().size());

    SimKeepers.Sim x = k.addManual("x");
    assertTrue(x.credential.startsWith("pgwn_"), x.credential);
    assertError(http.post(nodes, op, String.format(body, x.port())), 409, "conflict");
    assertError(http.post(nodes, x.credential, String.format(body, 5999)), 403, "forbidden");

    // x's own credential reports for x; its first report gets goal single
    String xr = nodes + "/" + x.id + "/report";
    RawHttp.Resp first = http.post(xr, x.credential, Json.write(report(NodeState.INIT, TermSeq.NONE, 0, false, null)));
    assertEquals(200, first.status(), first.toString());
    ReportReply r1 = first.as(ReportReply.class);
    assertEquals(NodeState.SINGLE, r1.goal().state());
    TermSeq stamp = r1.goal().stamp();
    String reached = Json.write(report(NodeState.SINGLE, stamp, r1.term(), false, null));

    // the credential rules
    assertError(http.post(xr, op, reached), 403, "forbidden");
    assertError(http.post(xr, null, reached), 401, "unauthorized");
    assertError(http.post(xr, "pgwn_" + "B".repeat(43), reached), 401, "unauthorized");
    assertError(http.post(nodes + "/999/report", x.credential, reached), 403, "forbidden");
    assertError(http.get(F + "/creds/state", x.credential), 403, "forbidden");
    assertError(http.post(F + "/creds/actions", x.credential, "{\"kind\":\"switchover\"}"), 403, "forbidden");
    // bad query parameters and bodies
    assertError(http.post(xr + "?known=abc", x.credential, reached), 400, "bad_request");
    assertError(http.post(xr + "?wait_ms=-5", x.credential, reached), 400, "bad_request");
    assertError(http.post(xr, x.credential, reached.replace("\"single\"", "\"flying\"")), 400, "bad_request");
    assertError(http.post(xr, x.credential, reached.replace("\"timeline\":1", "\"timeline\":\"one\"")), 400,
        "bad_request");
    assertError(http.post(xr, x.credential, "{\"state\":"), 400, "malformed_json");
    assertError(http.post(xr, x.credential, "{}"), 400, "bad_request");
    assertError(http.send("POST", xr, x.credential, "text/plain", reached), 415, "unsupported_media_type");

    // the long-poll: nothing changes, so the report is held for its wait and answered with the same goal
    long t0 = System.nanoTime();
    RawHttp.Resp held = http.post(xr + "?known=" + stamp + "&wait_ms=300", x.credential, reached);
    long heldMs = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(200, held.status(), held.toString());
    assertEquals(stamp, held.as(ReportReply.class).goal().stamp());
    assertTrue(heldMs >= 280 && heldMs < 1_500, "held for its wait of 300 ms, not " + heldMs + " ms");

    // ... and answered at once when the goal changes: y joining moves x from single to wait_primary
    ApiClient xc = new ApiClient(c.base, x.credential);
    CompletableFuture<ReportReply> poll = xc.reportAsync("creds", x.id, Json.read(reached, NodeReport.class), stamp,
        Duration.ofSeconds(5));
    Thread.sleep(50); // the poll is held by now
    assertTrue(!poll.isDone(), "held");
    SimKeepers.Sim y = k.addManual("y");
    RawHttp.Resp yr = http.post(nodes + "/" + y.id + "/report", y.credential,
        Json.write(report(NodeState.INIT, TermSeq.NONE, 0, true, null)));
    assertEquals(200, yr.status(), yr.toString());
    ReportReply yReply = yr.as(ReportReply.class);
    long t1 = System.nanoTime();
    http.post(nodes + "/" + y.id + "/report", y.credential,
        Json.write(report(yReply.goal().state(), yReply.goal().stamp(), yReply.term(), true, x.id)));
    ReportReply woken = poll.get(5, TimeUnit.SECONDS);
    long wokenMs = (System.nanoTime() - t1) / 1_000_000;
    assertEquals(NodeState.WAIT_PRIMARY, woken.goal().state());
    assertTrue(wokenMs < 1_000, "answered at the goal change, not at the end of its 5 s wait: " + wokenMs + " ms");
    // a node reporting as another node is refused
    assertError(http.post(nodes + "/" + y.id + "/report", x.credential, reached), 403, "forbidden");

    // a node dropped while its report is held: the held report is answered at once, 404
    TermSeq yStamp = c.api.state("creds").nodes().stream().filter(n -> n.nodeId() == y.id).findFirst().orElseThrow()
        .stamp();
    ApiClient yc = new ApiClient(c.base, y.credential);
    CompletableFuture<ReportReply> yPoll = yc.reportAsync("creds", y.id,
        report(NodeState.CATCHINGUP, yStamp, yReply.term(), true, x.id), yStamp, Duration.ofSeconds(5));
    Thread.sleep(50);
    long term = c.api.state("creds").term();
    long t2 = System.nanoTime();
    assertEquals(200, http.post(F + "/creds/actions", op, "{\"kind\":\"drop-node\",\"node\":\"y\",\"force\":true}")
        .status());
    java.util.concurrent.ExecutionException gone = org.junit.jupiter.api.Assertions.assertThrows(
        java.util.concurrent.ExecutionException.class, () -> yPoll.get(3, TimeUnit.SECONDS));
    assertEquals(404, ((io.pgwarden.api.ApiException) gone.getCause()).status(), gone.toString());
    assertTrue((System.nanoTime() - t2) / 1_000_000 < 1_000, "answered at the drop");
    assertError(http.post(nodes + "/" + y.id + "/report", y.credential, reached), 401, "unauthorized");
    assertEquals(term, c.api.state("creds").term(), "the supervisor ran on: no restart raised the term");
  }

  // ---- views ----------------------------------------------------------------------------------------

  @Test
  void views() {
    Dto.FormationState s = http.get(F + "/app/state", op).as(Dto.FormationState.class);
    assertEquals("app", s.formation());
    assertEquals(2, s.nodes().size());
    assertNotNull(s.primaryNodeId());
    Dto.Uris u = http.get(F + "/app/uri", op).as(Dto.Uris.class);
    for (SimKeepers.Sim n : app.all()) assertTrue(u.postgres().contains("127.0.0.1:" + n.port()), u.postgres());
    assertTrue(u.postgres().startsWith("postgres://") && u.postgres().contains("/shop?"), u.postgres());
    assertTrue(u.jdbc().startsWith("jdbc:postgresql://"), u.jdbc());
    Dto.Settings st = http.get(F + "/app/settings", op).as(Dto.Settings.class);
    assertEquals(2, st.nodes().size());
    assertTrue(st.syncStandbyNames().startsWith("ANY 1 (pgwarden_"), st.syncStandbyNames());

    Dto.EventPage page = http.get(F + "/app/events?limit=3", op).as(Dto.EventPage.class);
    assertEquals(3, page.events().size());
    assertTrue(page.events().get(0).ordering() > page.events().get(2).ordering(), "newest first");
    assertNotNull(page.nextBefore());
    Dto.EventPage older = http.get(F + "/app/events?limit=3&before=" + page.nextBefore(), op).as(Dto.EventPage.class);
    assertTrue(older.events().get(0).ordering() < page.events().get(2).ordering());
    assertEquals(0, http.get(F + "/app/events?since=2999-01-01T00:00:00Z", op).as(Dto.EventPage.class).events().size());
    assertError(http.get(F + "/app/events?limit=0", op), 400, "bad_request");
    assertError(http.get(F + "/app/events?limit=x", op), 400, "bad_request");
    assertError(http.get(F + "/app/events?since=yesterday", op), 400, "bad_request");
    assertError(http.get(F + "/app/events?before=-1", op), 400, "bad_request");
    for (String v : List.of("state", "uri", "settings", "events", "events/stream", "operations/op-1")) {
      assertError(http.get(F + "/nope/" + v, op), 404, "not_found");
      assertError(http.get(F + "/app/" + v, null), 401, "unauthorized");
    }
    assertError(http.get(F + "/app/operations/op-999", op), 404, "not_found");
    assertError(http.send("POST", F + "/app/state", op, "application/json", "{}"), 405, "method_not_allowed");
  }

  // ---- operator actions -----------------------------------------------------------------------------

  /** Events of formation app journaled with this idempotency key (the formation's and the nodes'). */
  private long eventsWithKey(String key) {
    Dto.EventPage p = c.api.events("app", null, null, 1000);
    return p.events().stream().filter(e -> key.equals(e.event().path("by").path("idempotency_key").asText())).count();
  }

  @Test
  void actionsOperationsAndIdempotentRetries() {
    String actions = F + "/app/actions";
    String secondary = secondary().name;

    // an immediate action: 200, succeeded; its retry returns the same operation and journals nothing
    String prio = "{\"kind\":\"set-candidate-priority\",\"node\":\"" + secondary + "\",\"value\":70,\"reason\":\"t\"}";
    RawHttp.Resp set = http.post(actions, op, prio, "Idempotency-Key", "prio-1");
    assertEquals(200, set.status(), set.toString());
    Dto.Operation first = set.as(Dto.Operation.class);
    assertEquals("succeeded", first.status());
    assertEquals("admin", first.by().who());
    SimKeepers.await(() -> eventsWithKey("prio-1") == 2, Duration.ofSeconds(5), "formation and node events journaled");
    RawHttp.Resp retry = http.post(actions, op, prio, "Idempotency-Key", "prio-1");
    assertEquals(200, retry.status(), retry.toString());
    assertEquals(first.id(), retry.as(Dto.Operation.class).id());
    RawHttp.Resp inBody = http.post(actions, op, prio.replace("}", ",\"idempotency_key\":\"prio-1\"}"));
    assertEquals(first.id(), inBody.as(Dto.Operation.class).id());
    LiveController.sleep(300);
    assertEquals(2, eventsWithKey("prio-1"), "the retries journaled nothing");
    assertEquals(70, c.api.settings("app").nodes().stream().filter(n -> n.name().equals(secondary)).findFirst()
        .orElseThrow().candidatePriority());
    Dto.Operation got = http.get(F + "/app/operations/" + first.id(), op).as(Dto.Operation.class);
    assertEquals(first.id(), got.id());

    // the same key for another request, and other refusals: nothing changes
    long seqBefore = c.api.state("app").nodes().stream().mapToLong(n -> n.stamp().seq()).max().orElseThrow();
    assertError(http.post(actions, op, "{\"kind\":\"switchover\"}", "Idempotency-Key", "prio-1"), 409, "conflict");
    assertError(http.post(actions, op, prio.replace("}", ",\"idempotency_key\":\"other\"}"), "Idempotency-Key",
        "prio-1"), 400, "bad_request");
    assertError(http.post(actions, op, prio, "Idempotency-Key", "has space"), 400, "bad_request");
    assertError(http.post(actions, op, "{\"kind\":\"reboot\"}"), 400, "bad_request");
    assertTrue(http.post(actions, op, "{\"kind\":\"reboot\"}").json().path("message").asText().contains("switchover"));
    assertError(http.post(actions, op, "{\"kind\":\"promotion\",\"node\":\"zz\"}"), 404, "not_found");
    assertError(http.post(actions, op, prio.replace("70", "101")), 400, "bad_request");
    assertError(http.post(actions, op, prio.replace("70", "\"seventy\"")), 400, "bad_request");
    assertError(http.post(actions, op, "{\"kind\":\"set-number-sync-standbys\",\"value\":2}"), 409, "conflict");
    assertError(http.post(actions, op, "{\"kind\":\"maintenance-off\",\"node\":\"" + secondary + "\"}"), 409,
        "conflict");
    assertError(http.post(actions, op, "{\"kind\":"), 400, "malformed_json");
    assertError(http.post(actions, op, "null"), 400, "bad_request");
    assertError(http.send("POST", actions, op, "text/plain", prio), 415, "unsupported_media_type");
    assertError(http.post(F + "/nope/actions", op, prio), 404, "not_found");
    long seqAfter = c.api.state("app").nodes().stream().mapToLong(n -> n.stamp().seq()).max().orElseThrow();
    assertEquals(seqBefore, seqAfter, "refused actions decided nothing");

    // long actions: 202 with the operation's Location; the keepers follow until it succeeded
    RawHttp.Resp on = http.post(actions, op, "{\"kind\":\"maintenance-on\",\"node\":\"" + secondary
        + "\",\"reason\":\"patch\"}");
    assertEquals(202, on.status(), on.toString());
    String location = on.header("Location");
    Dto.Operation accepted = on.as(Dto.Operation.class);
    assertEquals(F + "/app/operations/" + accepted.id(), location);
    assertEquals("accepted", accepted.status());
    assertEquals("succeeded", c.api.awaitOperation("app", accepted.id(), Duration.ofSeconds(10),
        Duration.ofMillis(20)).status());
    assertEquals(200, http.get(location, op).status());
    SimKeepers.await(() -> app.node(secondary).state() == NodeState.MAINTENANCE, Duration.ofSeconds(5),
        "in maintenance");
    RawHttp.Resp off = http.post(actions, op, "{\"kind\":\"maintenance-off\",\"node\":\"" + secondary + "\"}");
    assertEquals(202, off.status(), off.toString());
    assertEquals("succeeded", c.api.awaitOperation("app", off.as(Dto.Operation.class).id(), Duration.ofSeconds(10),
        Duration.ofMillis(20)).status());
    app.awaitSettled(Duration.ofSeconds(10));
  }

  private SimKeepers.Sim secondary() {
    app.awaitSettled(Duration.ofSeconds(10));
    return app.all().stream().filter(n -> n.state() == NodeState.SECONDARY).findFirst().orElseThrow();
  }

  // ---- the event stream ----------------------------------------------------------------------------

  @Test
  void theEventStreamDeliversAGoalChange() throws Exception {
    app.awaitSettled(Duration.ofSeconds(10));
    RawHttp.Resp head = http.get(F + "/app/events/stream", op);
    assertEquals(200, head.status());
    assertTrue(head.contentType().startsWith("text/event-stream"), head.contentType());

    // from the start: the formation's history replays, oldest first
    try (Stream<Dto.EventView> all = c.api.streamEvents("app", 0L)) {
      Dto.EventView e = all.iterator().next();
      assertEquals("formation-created", e.type(), e.toString());
    }

    BlockingQueue<Dto.EventView> got = new LinkedBlockingQueue<>();
    Stream<Dto.EventView> live = c.api.streamEvents("app", null);
    Thread reader = new Thread(() -> {
      try {
        live.forEach(got::add);
      } catch (RuntimeException e) {
        // closed at the end of the test
      }
    }, "sse-reader");
    reader.setDaemon(true);
    reader.start();
    try {
      int primary = c.api.state("app").primaryNodeId();
      long t0 = System.nanoTime();
      Dto.Operation sw = c.api.perform("app", new Dto.OperatorRequest("switchover", null, null, null, null, "sse", null));
      Dto.EventView decided = null;
      while (decided == null) {
        Dto.EventView e = got.poll(5, TimeUnit.SECONDS);
        assertNotNull(e, "no decision draining the primary within 5 s of the switchover");
        if (!e.type().equals("decided")) continue;
        for (JsonNode g : e.event().path("goals")) {
          if (g.path("node_id").asInt() == primary && g.path("state").asText().equals("draining")) decided = e;
        }
      }
      long ms = (System.nanoTime() - t0) / 1_000_000;
      System.out.println("LiveApiTest: the switchover's decision arrived on the event stream after " + ms + " ms");
      assertTrue(decided.event().path("stamp").path("term").asLong() <= sw.stamp().term());
      assertEquals("succeeded", c.api.awaitOperation("app", sw.id(), Duration.ofSeconds(10), Duration.ofMillis(20))
          .status());
      Dto.FormationState after = app.awaitSettled(Duration.ofSeconds(10));
      assertTrue(after.primaryNodeId() != primary, "the other node is primary now");
    } finally {
      live.close();
    }
  }

  // ---- the client's view of refusals -----------------------------------------------------------------

  @Test
  void theClientReportsRefusalsAndUnreachableServers() {
    io.pgwarden.api.ApiException e = org.junit.jupiter.api.Assertions.assertThrows(io.pgwarden.api.ApiException.class,
        () -> c.api.state("nope"));
    assertEquals(404, e.status());
    assertEquals("not_found", e.code());
    ApiClient nobody = new ApiClient(java.net.URI.create("http://127.0.0.1:" + freePort()), op,
        Duration.ofSeconds(2), null);
    io.pgwarden.api.ApiException u = org.junit.jupiter.api.Assertions.assertThrows(
        io.pgwarden.api.ApiException.class, () -> nobody.state("app"));
    assertEquals(0, u.status());
    assertEquals("unreachable", u.code());
  }

  static int freePort() {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
