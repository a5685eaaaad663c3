package io.pgwarden.controller.keeper;

import static io.pgwarden.controller.keeper.LiveFormation.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgwarden.api.Dto;
import io.pgwarden.controller.keeper.LiveFormation.Cli;
import io.pgwarden.controller.keeper.LiveFormation.Node;
import io.pgwarden.keeper.Action;
import io.pgwarden.keeper.PeerLink;
import io.pgwarden.keeper.Step;
import io.pgwarden.keeper.StepRunner;
import io.pgwarden.keeper.app.KeeperFileConfig;
import io.pgwarden.keeper.pg.LocalPg;
import io.pgwarden.keeper.pg.PgCluster;
import io.pgwarden.keeper.pg.PgNodes;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.Timing;
import io.pgwarden.os.Command;
import io.pgwarden.os.OsUser;
import io.pgwarden.testing.TestPostgres;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Keepers on real PostgreSQL 15 with the real controller, over HTTP, nodes created with
 * {@code pgwarden create postgres}: the first node initialised and writable, a standby cloned through
 * its slot, the health endpoints, the failsafe (writes go on while the controller is down), the fence
 * (a primary cut off from controller and peers stops its postmaster), a restarted primary's keeper that
 * starts nothing before its grant, a switchover during which the old primary's keeper is killed
 * mid-transition, and a failover after which the old primary is rewound with its discarded bytes
 * counted and journaled. Steps build on each other.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KeeperLiveTest {
  /** Quick, but with room for a 2-core machine running three PostgreSQL servers and this JVM. */
  static final Timing T = new Timing(100, 1_000, 50_000, 50, 1_000, 200, 300, 1_500, 2_000, 800, 20, 500,
      16L * 1024 * 1024);
  static final Duration WAIT = Duration.ofSeconds(60);

  LiveFormation f;
  Node n1;
  Node n2;
  final Hold hold1 = new Hold();

  /** Holds a keeper's executor at the start of a rejoin (demoted → catchingup) while armed. */
  static final class Hold implements StepRunner.Hook {
    volatile boolean armed;
    final CountDownLatch entered = new CountDownLatch(1);

    @Override
    public void beforeStep(Step step, Action.RunSteps segment) throws InterruptedException {
      if (armed && step instanceof Step.Start && segment.from() == NodeState.DEMOTED) {
        entered.countDown();
        new CountDownLatch(1).await(); // until the keeper is killed (interrupted)
      }
    }
  }

  @BeforeAll
  void setUp() {
    f = new LiveFormation("live", T);
    n1 = f.node("n1");
    n2 = f.node("n2");
  }

  @AfterAll
  void tearDown() {
    f.close();
  }

  static void measure(String what, long ms) {
    System.out.println("MEASURE " + what + " = " + ms + " ms");
  }

  static long msSince(long t0) {
    return (System.nanoTime() - t0) / 1_000_000;
  }

  @Test
  @Order(1)
  void theFirstNodeIsInitialisedAndTakesWrites() throws Exception {
    long t0 = System.nanoTime();
    Cli c = f.cli(f.createArgs(n1).toArray(String[]::new));
    assertEquals(0, c.code(), c.err());
    long created = msSince(t0);
    n1.start(hold1);
    await("n1 single with writes open", WAIT, () -> {
      Dto.FormationState s = f.state();
      return s.writesOpen() && s.primaryNodeId() != null && s.primaryNodeId() == n1.id() && f.reached(n1,
          NodeState.SINGLE);
    });
    long ms = msSince(t0);
    measure("create postgres (first node) -> single, writes open [create command " + created + " ms]", ms);
    assertEquals("rw-------", perms(n1.keeperDir.resolve(KeeperFileConfig.FILE)));
    assertEquals("rw-------", perms(n1.keeperDir.resolve(KeeperFileConfig.CREDENTIAL_FILE)));
    assertTrue(Files.exists(n1.keeperDir.resolve("state.json")));
    KeeperFileConfig cfg = KeeperFileConfig.load(n1.keeperDir);
    assertEquals(T, cfg.timing(), "the keeper took the controller's timing");
    try (Connection conn = n1.connect(); Statement st = conn.createStatement()) {
      st.execute("CREATE TABLE t (id bigserial primary key, note text)");
      st.execute("INSERT INTO t (note) SELECT 'first' FROM generate_series(1, 100)");
    }
    assertTrue(f.state().systemIdentifier() != null, "the formation knows its system identifier");
  }

  static String perms(Path p) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }

  @Test
  @Order(2)
  void healthEndpointsOfALonePrimary() {
    await("/primary 200", Duration.ofSeconds(10), () -> n1.health("GET", "/primary") == 200);
    for (String m : List.of("GET", "HEAD", "OPTIONS")) {
      assertEquals(200, n1.health(m, "/primary"), m);
      assertEquals(200, n1.health(m, "/"), m);
      assertEquals(200, n1.health(m, "/read-write"), m);
      assertEquals(200, n1.health(m, "/read-only"), m);
      assertEquals(200, n1.health(m, "/health"), m);
      assertEquals(503, n1.health(m, "/replica"), m);
      assertEquals(503, n1.health(m, "/no-such-check"), m);
    }
  }

  @Test
  @Order(3)
  void theSecondNodeIsClonedThroughItsSlotAndStreams() throws Exception {
    long t0 = System.nanoTime();
    Cli c = f.cli(f.createArgs(n2).toArray(String[]::new));
    assertEquals(0, c.code(), c.err());
    n2.start(null);
    await("n2 secondary", WAIT, () -> f.reached(n2, NodeState.SECONDARY));
    measure("create postgres (second node) -> secondary", msSince(t0));
    await("n1 primary", WAIT, () -> f.reached(n1, NodeState.PRIMARY));
    measure("create postgres (second node) -> secondary and n1 primary", msSince(t0));
    assertEquals("t", one(n1, "SELECT active FROM pg_replication_slots WHERE slot_name = 'pgwarden_2'"));
    assertEquals("ANY 1 (pgwarden_2)", one(n1, "SHOW synchronous_standby_names"));
    assertEquals("quorum", one(n1, "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'pgwarden_2'"));
    try (Connection conn = n1.connect(); Statement st = conn.createStatement()) {
      st.execute("INSERT INTO t (note) SELECT 'second' FROM generate_series(1, 100)");
    }
    await("n2 has the rows", Duration.ofSeconds(10), () -> one(n2, "SELECT count(*) FROM t").equals("200"));
    await("/replica 200 on n2", Duration.ofSeconds(10), () -> n2.health("GET", "/replica") == 200);
    // the lag is known once the standby heard from its primary (latest_end_lsn; up to about a second)
    await("/replica?lag=1MB 200 on n2", Duration.ofSeconds(10), () -> n2.health("GET", "/replica?lag=1MB") == 200);
    for (String m : List.of("GET", "HEAD", "OPTIONS")) {
      assertEquals(200, n2.health(m, "/replica"), m);
      assertEquals(200, n2.health(m, "/replica?lag=1MB"), m + " " + n2.healthBody("/replica?lag=1MB"));
      assertEquals(200, n2.health(m, "/read-only"), m);
      assertEquals(200, n2.health(m, "/health"), m);
      assertEquals(503, n2.health(m, "/primary"), m);
      assertEquals(200, n1.health(m, "/primary"), m);
      assertEquals(503, n1.health(m, "/replica"), m);
    }
    assertEquals(503, n2.health("GET", "/replica?lag=banana"));
  }

  @Test
  @Order(4)
  void badInputToCreatePostgresChangesNothing() throws Exception {
    int nodes = f.state().nodes().size();
    long rows = rows();
    Node bad = f.node("bad");
    Files.createDirectories(bad.base);
    OsUser.chown(bad.base, LiveFormation.PG_USER);

    // a non-empty PGDATA that is not a cluster
    Files.createDirectories(bad.pgdata);
    Files.writeString(bad.pgdata.resolve("notes.txt"), "mine\n");
    Cli c = f.cli(f.createArgs(bad).toArray(String[]::new));
    assertEquals(1, c.code());
    assertTrue(c.err().contains("not empty and is not a PostgreSQL cluster"), c.err());
    assertEquals(List.of("notes.txt"), list(bad.pgdata));
    Files.delete(bad.pgdata.resolve("notes.txt"));

    // a port in use
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      List<String> a = f.createArgs(bad);
      a.set(a.indexOf("--pgport") + 1, Integer.toString(s.getLocalPort()));
      c = f.cli(a.toArray(String[]::new));
      assertEquals(1, c.code());
      assertTrue(c.err().contains("is in use"), c.err());
    }

    // an unreachable controller
    List<String> a = f.createArgs(bad);
    a.set(a.indexOf("--monitor") + 1, "http://127.0.0.1:" + TestPostgres.freePort());
    c = f.cli(a.toArray(String[]::new));
    assertEquals(3, c.code(), c.err());
    assertTrue(c.err().contains("cannot reach"), c.err());

    // a PostgreSQL user that does not exist, when root
    if (OsUser.isRoot()) {
      a = f.createArgs(bad);
      a.addAll(List.of("--pg-user", "pgwarden_no_such_user"));
      c = f.cli(a.toArray(String[]::new));
      assertEquals(1, c.code(), c.err());
      assertTrue(c.err().contains("pgwarden_no_such_user") && c.err().contains("postgresql"), c.err());
    }

    // no operator token
    a = f.createArgs(bad);
    int i = a.indexOf("--token");
    a.remove(i + 1);
    a.remove(i);
    c = f.cli(a.toArray(String[]::new));
    assertEquals(1, c.code(), c.err());
    assertTrue(c.err().contains("operator token"), c.err());

    // a cluster of another system
    LocalPg other = LocalPg.of(99, bad.pgdata, bad.pgport, "127.0.0.1", LiveFormation.PG_USER, PgNodes.BIN)
        .withTesting(PgNodes.SMALL);
    new PgCluster(other).initdb();
    c = f.cli(f.createArgs(bad).toArray(String[]::new));
    assertEquals(1, c.code(), c.err());
    assertTrue(c.err().contains("system identifier"), c.err());

    // the same cluster, running (started by someone else)
    new PgCluster(other).start();
    try {
      c = f.cli(f.createArgs(bad).toArray(String[]::new));
      assertEquals(1, c.code(), c.err());
      assertTrue(c.err().contains("started by something else"), c.err());
    } finally {
      new PgCluster(other).stop(PgCluster.StopMode.IMMEDIATE, Duration.ofSeconds(3));
    }

    // a keeper directory already in use
    a = f.createArgs(bad);
    a.set(a.indexOf("--dir") + 1, n1.keeperDir.toString());
    io.pgwarden.os.Dirs.deleteTree(bad.pgdata);
    c = f.cli(a.toArray(String[]::new));
    assertEquals(1, c.code(), c.err());
    assertTrue(c.err().contains("already holds a pgwarden configuration"), c.err());

    // nothing changed: no node registered, no keeper directory written
    assertEquals(nodes, f.state().nodes().size());
    assertFalse(Files.exists(bad.keeperDir));
    assertFalse(registeredSince(rows), "no registration journaled");
  }

  /** The newest journal ordering of the formation. */
  private long rows() {
    Dto.EventPage p = f.api.events(f.formation, null, null, 1000);
    return p.events().isEmpty() ? 0 : p.events().get(0).ordering();
  }

  private boolean registeredSince(long ordering) {
    return f.api.events(f.formation, null, null, 1000).events().stream()
        .anyMatch(e -> e.ordering() > ordering && e.type().contains("registered"));
  }

  private static List<String> list(Path dir) throws Exception {
    try (var s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  @Order(5)
  void thePromiseEndpointRefusesAStaleTerm() throws Exception {
    long term = f.state().term();
    assertTrue(term >= 1);
    HttpClient http = HttpClient.newHttpClient();
    URI u = URI.create("http://127.0.0.1:" + n2.keeperPort + PeerLink.PROMISE_PATH);
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(u).POST(HttpRequest.BodyPublishers.ofString(
        "{\"primary_id\": " + n1.id() + ", \"term\": " + (term - 1) + "}")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    JsonNode a = io.pgwarden.persistence.Json.MAPPER.readTree(r.body());
    assertFalse(a.path("ok").asBoolean(), r.body());
    assertEquals(term, a.path("term").asLong());
    r = http.send(HttpRequest.newBuilder(u).POST(HttpRequest.BodyPublishers.ofString("{\"primary_id\": 1}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(400, r.statusCode(), r.body());
  }

  @Test
  @Order(6)
  void writesGoOnWhileTheControllerAloneIsDown() throws Exception {
    f.stopController();
    long runMs = 3 * T.leaseMs() + 600;
    int[] done = new int[2]; // ok, failed
    List<String> errors = new ArrayList<>();
    long t0 = System.nanoTime();
    try (Connection conn = n1.connect(); Statement st = conn.createStatement()) {
      while (msSince(t0) < runMs) {
        try {
          st.execute("INSERT INTO t (note) VALUES ('failsafe')");
          done[0]++;
        } catch (SQLException e) {
          done[1]++;
          if (errors.size() < 5) errors.add(e.getMessage());
        }
      }
    }
    System.out.println("failsafe: " + done[0] + " commits, " + done[1] + " failures in " + runMs + " ms with the"
        + " controller down");
    assertEquals(0, done[1], "failed writes: " + errors);
    assertTrue(done[0] > 50, "commits: " + done[0]);
    assertTrue(n1.pgRunning());
    assertTrue(n1.keeper.status().lease() != null && n1.keeper.status().lease().validAt(
        System.nanoTime() / 1_000_000, System.currentTimeMillis()), "the lease is renewed through the peers");
    f.startController();
    await("settled again", WAIT, () -> f.reached(n1, NodeState.PRIMARY) && f.reached(n2, NodeState.SECONDARY)
        && f.state().writesOpen());
  }

  @Test
  @Order(7)
  void aPrimaryCutOffFromControllerAndPeersStopsItsPostmaster() {
    f.stopController();
    n2.halt(); // its keeper API is gone: the primary's failsafe round gets no answer
    long t0 = System.nanoTime();
    await("n1's postmaster stopped", Duration.ofMillis(T.leaseMs() + 5_000), () -> !n1.pgRunning());
    long ms = msSince(t0);
    measure("controller and peers unreachable -> primary's postmaster stopped (lease " + T.leaseMs() + " ms)", ms);
    assertTrue(ms >= 300, "not before its lease could run out: " + ms + " ms");
    assertEquals(503, n1.health("GET", "/primary"));
    f.startController();
    n2.start(null);
    await("n1 primary again and writable", WAIT, () -> f.reached(n1, NodeState.PRIMARY) && n1.pgRunning()
        && f.reached(n2, NodeState.SECONDARY) && n1.health("GET", "/primary") == 200);
    assertEquals(1, f.state().primaryNodeId() == n1.id() ? 1 : 0);
  }

  @Test
  @Order(8)
  void aRestartedPrimaryKeeperStartsNothingWritableUntilGranted() {
    n1.halt(); // PostgreSQL stays up, writable
    assertTrue(n1.pgRunning());
    f.stopController();
    long t0 = System.nanoTime();
    n1.start(hold1);
    await("the writable PostgreSQL found at start is fenced", Duration.ofSeconds(10), () -> !n1.pgRunning());
    measure("restarted keeper -> the writable PostgreSQL it found is fenced", msSince(t0));
    LiveFormation.sleep(3 * T.leaseMs());
    assertFalse(n1.pgRunning(), "no writable start without a grant");
    f.startController();
    long t1 = System.nanoTime();
    await("started under the granted lease", WAIT, () -> n1.pgRunning() && n1.health("GET", "/primary") == 200);
    measure("controller back -> restarted primary writable again", msSince(t1));
    await("settled", WAIT, () -> f.reached(n1, NodeState.PRIMARY) && f.reached(n2, NodeState.SECONDARY));
  }

  @Test
  @Order(9)
  void aSwitchoverFinishesAfterTheOldPrimarysKeeperIsKilledMidTransition() throws Exception {
    hold1.armed = true;
    long t0 = System.nanoTime();
    f.api.perform(f.formation, new Dto.OperatorRequest("switchover", null, null, null, null, "test", null));
    assertTrue(hold1.entered.await(60, TimeUnit.SECONDS), "n1 reached the start of its rejoin");
    await("n2 writable", WAIT, () -> n2.health("GET", "/primary") == 200);
    measure("switchover: request -> new primary writable", msSince(t0));
    n1.halt();
    assertFalse(n1.pgRunning(), "killed after its rewind, before its start");
    n1.start(null);
    await("n1 secondary of n2", WAIT, () -> f.reached(n1, NodeState.SECONDARY) && f.reached(n2, NodeState.PRIMARY));
    measure("switchover: request -> both settled (with a keeper restart)", msSince(t0));
    await("/replica 200 on n1", Duration.ofSeconds(10), () -> n1.health("GET", "/replica") == 200);
    JsonNode rewound = lastRewound(n1);
    assertTrue(rewound != null, "the rejoin is journaled");
    System.out.println("n1 rejoin: " + rewound);
    try (Connection conn = n2.connect(); Statement st = conn.createStatement()) {
      st.execute("INSERT INTO t (note) VALUES ('after switchover')");
    }
  }

  @Test
  @Order(10)
  void afterAFailoverTheOldPrimaryIsRewoundAndItsDiscardedBytesJournaled() throws Exception {
    long rowsBefore = Long.parseLong(one(n2, "SELECT count(*) FROM t"));
    // n2's host freezes: its keeper dies, its PostgreSQL stops answering
    n2.halt();
    List<Long> tree = PgNodes.processTree(n2.pg);
    signal("STOP", tree);
    long t0 = System.nanoTime();
    try {
      await("n1 promoted, writes open", WAIT, () -> n1.health("GET", "/primary") == 200);
      measure("failover: primary frozen -> new primary writable", msSince(t0));
    } finally {
      signal("CONT", tree);
    }
    // the old primary comes back without its keeper and takes writes nobody else has
    try (Connection conn = n2.connect(); Statement st = conn.createStatement()) {
      st.execute("SET synchronous_commit = local");
      st.execute("INSERT INTO t (note) SELECT 'lost' FROM generate_series(1, 3000)");
    }
    new PgCluster(n2.pg).stop(PgCluster.StopMode.IMMEDIATE, Duration.ofSeconds(3));
    long t1 = System.nanoTime();
    n2.start(null);
    await("n2 rejoined as secondary", WAIT, () -> f.reached(n2, NodeState.SECONDARY));
    measure("old primary's keeper restarted -> rewound and secondary", msSince(t1));
    JsonNode rejoin = lastRewound(n2);
    System.out.println("n2 rejoin: " + rejoin);
    assertEquals("pg_rewind", rejoin.path("method").asText(), rejoin.toString());
    assertTrue(rejoin.path("bytes_discarded").asLong() > 3000 * 30, rejoin.toString());
    await("n2 streams from n1", Duration.ofSeconds(10), () -> n2.health("GET", "/replica") == 200);
    long rows = Long.parseLong(one(n1, "SELECT count(*) FROM t"));
    assertTrue(rows >= rowsBefore);
    await("n2 has exactly n1's rows", Duration.ofSeconds(10), () -> one(n2, "SELECT count(*) FROM t")
        .equals(one(n1, "SELECT count(*) FROM t")));
    assertEquals("0", one(n2, "SELECT count(*) FROM t WHERE note = 'lost'"));
  }

  @Test
  @Order(11)
  void aDroppedNodesKeeperStopsForGoodWithItsOwnExitCode() throws Exception {
    // n2 runs through the command line this time: pgwarden run --dir
    n2.halt();
    java.util.concurrent.CompletableFuture<Integer> run = java.util.concurrent.CompletableFuture.supplyAsync(
        () -> f.cli("run", "--dir", n2.keeperDir.toString()).code());
    await("n2 secondary under 'pgwarden run'", WAIT, () -> f.reached(n2, NodeState.SECONDARY)
        && n2.health("GET", "/liveness") == 200);
    int id = KeeperFileConfig.load(n2.keeperDir).nodeId();
    long t0 = System.nanoTime();
    Cli c = f.cli("drop", "node", "--name", n2.name, "--formation", f.formation, "--monitor", f.url.toString(),
        "--token", f.token);
    assertEquals(0, c.code(), c.err());
    assertEquals(io.pgwarden.keeper.app.KeeperApp.EXIT_DROPPED, run.get(60, TimeUnit.SECONDS));
    measure("drop node -> its keeper exited", msSince(t0));
    assertFalse(new PgCluster(n2.pg).isRunning(), "a dropped node's PostgreSQL is stopped");
    assertTrue(f.state().nodes().stream().noneMatch(v -> v.nodeId() == id));
    Cli again = f.cli("run", "--dir", n2.keeperDir.toString());
    assertEquals(1, again.code());
    assertTrue(again.err().contains("was dropped"), again.err());
    await("n1 alone again", WAIT, () -> f.reached(n1, NodeState.SINGLE));
  }

  /** The newest node.rewound event of {@code n}: its rejoin. */
  private JsonNode lastRewound(Node n) {
    for (Dto.EventView e : f.api.events(f.formation, null, null, 1000).events()) {
      if (e.type().equals("node.rewound") && e.persistenceId().endsWith("|" + n.id())) return e.event().path("rejoin");
    }
    return null;
  }

  static String one(Node n, String sql) {
    try (Connection c = n.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  static void signal(String sig, List<Long> pids) {
    List<String> argv = new ArrayList<>(List.of("kill", "-" + sig));
    pids.forEach(p -> argv.add(Long.toString(p)));
    Command.of("kill", argv, Duration.ofSeconds(5)).run();
  }
}
