package io.pgwarden.keeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import io.pgwarden.api.ApiException;
import io.pgwarden.keeper.pg.LocalPg;
import io.pgwarden.keeper.pg.PgCluster;
import io.pgwarden.keeper.pg.PgNodes;
import io.pgwarden.model.FormationSettings;
import io.pgwarden.model.Goal;
import io.pgwarden.model.Lease;
import io.pgwarden.model.NodeReport;
import io.pgwarden.model.NodeSettings;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.ReportReply;
import io.pgwarden.model.TermSeq;
import io.pgwarden.model.Timing;
import io.pgwarden.persistence.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The keeper's shell on a real PostgreSQL with a scripted controller: a lone primary built under its
 * lease, stale goals ignored, the fence when the lease is not renewed, a restarted keeper that fences a
 * writable PostgreSQL it finds and starts nothing until granted, and the keeper API (health checks,
 * HEAD and OPTIONS, unknown paths, the promise endpoint's input checks and refusals).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KeeperShellTest {
  static final Timing T = new Timing(100, 600, 50_000, 50, 600, 100, 150, 500, 10_000, 500, 20, 300, 16L << 20);
  private static final Duration WAIT = Duration.ofSeconds(30);

  private ActorTestKit kit;
  private PgNodes nodes;
  private LocalPg pg;
  private Path dir;
  private final Scripted controller = new Scripted();
  private Keeper keeper;
  private final HttpClient http = HttpClient.newHttpClient();

  /** A controller that answers with what the test sets, holding long-polls like the real one. */
  static final class Scripted implements ControllerLink {
    volatile Goal goal;
    volatile boolean lease = true;
    volatile boolean reachable = true;
    volatile long term = 1;
    final List<NodeReport> reports = java.util.Collections.synchronizedList(new ArrayList<>());

    @Override
    public CompletableFuture<ReportReply> report(NodeReport report, TermSeq known, long waitMs) {
      reports.add(report);
      if (!reachable) return CompletableFuture.failedFuture(new ApiException(0, "unreachable", "connection refused"));
      Goal g = goal;
      ReportReply reply = new ReportReply("f", g, term, 1, lease ? new Lease(term, T.leaseMs()) : null, 0, null, null, "", List.of(), NodeSettings.DEFAULT,
          new FormationSettings("app", 0, 0));
      boolean hold = waitMs > 0 && !g.stamp().isNewerThan(known);
      if (!hold) return CompletableFuture.completedFuture(reply);
      return CompletableFuture.supplyAsync(() -> reply,
          CompletableFuture.delayedExecutor(waitMs, TimeUnit.MILLISECONDS));
    }

    NodeReport last() {
      synchronized (reports) {
        return reports.get(reports.size() - 1);
      }
    }
  }

  /** One keeper incarnation: its actors, its HTTP server. */
  final class Keeper {
    final ActorRef<KeeperActor.Msg> actor;
    final KeeperHttp server;
    final Fencer fencer;
    final StepRunner runner;
    volatile KeeperStatus status;

    Keeper(int n) {
      StepRunner.Identity id = new StepRunner.Identity("f", 1, "n1");
      runner = new StepRunner(pg, id, dir, KeeperClock.SYSTEM, null);
      fencer = new Fencer(pg, id.label());
      ActorRef<ExecutorActor.Command> exec = kit.spawn(ExecutorActor.create(runner), "exec-" + n,
          ExecutorActor.dispatcher());
      StateFile sf = new StateFile(dir);
      KeeperActor.Deps deps = new KeeperActor.Deps(new KeeperStep(KeeperConfig.of(1, T)), id, sf.read(), sf, controller,
          (p, primary, term) -> CompletableFuture.failedFuture(new IllegalStateException("no peers")), exec, fencer,
          runner.ops(), kit.system().dispatchers().lookup(DispatcherSelector.fromConfig(ExecutorActor.IO_DISPATCHER)),
          KeeperClock.SYSTEM, s -> status = s, code -> { }, () -> { });
      actor = kit.spawn(KeeperActor.create(deps), "keeper-" + n);
      server = KeeperHttp.start(kit.system(), "127.0.0.1", 0, () -> status, actor, KeeperClock.SYSTEM, 1_000);
    }

    /** As if the process died: the loop stops, PostgreSQL is left alone. */
    void kill() {
      CompletableFuture<Void> done = new CompletableFuture<>();
      actor.tell(new KeeperActor.Shutdown(done));
      done.orTimeout(5, TimeUnit.SECONDS).join();
      server.close();
      runner.abort();
      fencer.close();
    }

    HttpResponse<String> call(String method, String path, String body) throws Exception {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
          .timeout(Duration.ofSeconds(5));
      b = body == null ? b.method(method, HttpRequest.BodyPublishers.noBody())
          : b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
  }

  @BeforeAll
  void setUp() {
    kit = ActorTestKit.create("keeper-shell-test", ConfigFactory.parseString(ExecutorActor.DISPATCHER_CONFIG)
        .withFallback(ConfigFactory.load()));
    nodes = new PgNodes("shell");
    pg = nodes.node(1);
    dir = nodes.root().resolve("keeper");
  }

  @AfterAll
  void tearDown() {
    if (keeper != null) keeper.kill();
    kit.shutdownTestKit();
    nodes.close();
  }

  static void await(String what, BooleanSupplier cond) {
    PgNodes.await(what, WAIT, cond);
  }

  private boolean running() {
    return new PgCluster(pg).isRunning();
  }

  @Test
  @Order(1)
  void aLonePrimaryUnderItsLease() throws Exception {
    controller.goal = new Goal(1, NodeState.SINGLE, new TermSeq(1, 1));
    long t0 = System.nanoTime();
    keeper = new Keeper(1);
    await("single reached", () -> keeper.status != null && keeper.status.current() == NodeState.SINGLE);
    System.out.println("MEASURE keeper init -> single (scripted controller) = " + (System.nanoTime() - t0) / 1_000_000
        + " ms");
    assertTrue(running());
    Persisted p = new StateFile(dir).read();
    assertEquals(new Persisted(NodeState.SINGLE, new TermSeq(1, 1), 1), p);
    await("a report says single", () -> controller.last().state() == NodeState.SINGLE
        && controller.last().pg() == io.pgwarden.model.PgStatus.RUNNING);
    await("/primary says 200", () -> status(keeper, "GET", "/primary") == 200);
    for (String m : List.of("GET", "HEAD", "OPTIONS")) {
      for (String path : List.of("/", "/primary", "/read-write", "/master", "/read-only", "/health", "/liveness")) {
        assertEquals(200, status(keeper, m, path), m + " " + path);
      }
      for (String path : List.of("/replica", "/replica?lag=1MB", "/nope", "/leader", "/primary/x")) {
        assertEquals(503, status(keeper, m, path), m + " " + path);
      }
    }
    HttpResponse<String> get = keeper.call("GET", "/primary", null);
    JsonNode body = Json.MAPPER.readTree(get.body());
    assertEquals("running", body.path("state").asText());
    assertEquals("primary", body.path("role").asText());
    assertEquals(1, body.path("timeline").asInt());
    assertTrue(body.path("xlog").path("location").asLong() > 0);
    assertEquals("single", body.path("pgwarden").path("state").asText());
    assertTrue(body.path("pgwarden").path("writable").asBoolean());
    HttpResponse<String> head = keeper.call("HEAD", "/primary", null);
    assertEquals("", head.body(), "HEAD answers without a body");
    assertEquals(405, status(keeper, "POST", "/primary"));
    assertEquals(503, status(keeper, "GET", "/nope"));
    System.out.println("health body: " + get.body());
  }

  private static int status(Keeper k, String method, String path) {
    try {
      return k.call(method, path, null).statusCode();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  @Order(2)
  void staleGoalsAreIgnored() throws Exception {
    long reports = controller.reports.size();
    controller.goal = new Goal(1, NodeState.WAIT_STANDBY, new TermSeq(1, 0));
    Thread.sleep(500);
    controller.goal = new Goal(1, NodeState.DEMOTED, new TermSeq(0, 9));
    Thread.sleep(500);
    assertTrue(controller.reports.size() > reports + 3, "the keeper kept reporting");
    assertEquals(NodeState.SINGLE, keeper.status.current());
    assertEquals(new Persisted(NodeState.SINGLE, new TermSeq(1, 1), 1), new StateFile(dir).read());
    assertTrue(running());
    assertEquals(200, status(keeper, "GET", "/primary"));

    // a newer stamp for the same state is adopted (nothing to do) and teaches the new term
    controller.term = 3;
    controller.goal = new Goal(1, NodeState.SINGLE, new TermSeq(3, 4));
    await("stamp 3.4 adopted", () -> new StateFile(dir).read().executed().equals(new TermSeq(3, 4)));
    assertEquals(3, new StateFile(dir).read().knownTerm());
  }

  @Test
  @Order(3)
  void thePromiseEndpointChecksItsInputAndRefusesAsTheCoreSays() throws Exception {
    HttpResponse<String> r = keeper.call("POST", PeerLink.PROMISE_PATH, "{\"primary_id\": 2, \"term\": 2}");
    assertEquals(200, r.statusCode(), r.body());
    PeerLink.Answer a = Json.read(r.body(), PeerLink.Answer.class);
    assertFalse(a.ok());
    assertEquals(3, a.term());
    assertTrue(a.reason().contains("newer term 3"), a.reason());
    r = keeper.call("POST", PeerLink.PROMISE_PATH, "{\"primary_id\": 2, \"term\": 3}");
    a = Json.read(r.body(), PeerLink.Answer.class);
    assertFalse(a.ok(), "a node that is itself writable never promises");
    assertTrue(a.reason().contains("candidate"), a.reason());
    assertEquals(400, keeper.call("POST", PeerLink.PROMISE_PATH, "{\"term\": 3}").statusCode());
    assertEquals(400, keeper.call("POST", PeerLink.PROMISE_PATH, "{\"primary_id\": 2}").statusCode());
    assertEquals(400, keeper.call("POST", PeerLink.PROMISE_PATH, "{\"primary_id\": 1, \"term\": 3}").statusCode());
    assertEquals(400, keeper.call("POST", PeerLink.PROMISE_PATH, "not json").statusCode());
    assertEquals(405, keeper.call("GET", PeerLink.PROMISE_PATH, null).statusCode());
  }

  @Test
  @Order(4)
  void withoutARenewedLeaseThePostmasterIsFenced() throws Exception {
    controller.lease = false;
    long t0 = System.nanoTime();
    await("postmaster fenced", () -> !running());
    long ms = (System.nanoTime() - t0) / 1_000_000;
    System.out.println("MEASURE lease withheld -> postmaster gone = " + ms + " ms (lease " + T.leaseMs() + " ms)");
    assertTrue(ms <= T.leaseMs() + 1_500, "fenced after " + ms + " ms");
    await("a report says fenced", () -> controller.last().fenced());
    assertEquals(503, status(keeper, "GET", "/primary"));
    Thread.sleep(2 * T.leaseMs());
    assertFalse(running(), "no start without a lease");

    controller.lease = true;
    await("started again under a lease", this::running);
    await("/primary says 200 again", () -> status(keeper, "GET", "/primary") == 200);
  }

  @Test
  @Order(5)
  void aRestartedKeeperFencesWhatItFindsAndStartsNothingUntilGranted() throws Exception {
    keeper.kill();
    assertTrue(running(), "a killed keeper leaves PostgreSQL running");
    controller.reachable = false;
    long t0 = System.nanoTime();
    keeper = new Keeper(2);
    await("fenced at the first facts", () -> !running());
    System.out.println("MEASURE restarted keeper -> writable PostgreSQL it found fenced = "
        + (System.nanoTime() - t0) / 1_000_000 + " ms");
    Thread.sleep(3 * T.leaseMs());
    assertFalse(running(), "no writable start on local memory");
    assertEquals(NodeState.SINGLE, keeper.status.current());
    controller.reachable = true;
    await("started under the granted lease", this::running);
    await("/primary says 200", () -> status(keeper, "GET", "/primary") == 200);
    assertEquals(NodeState.SINGLE, keeper.status.current());
  }
}
