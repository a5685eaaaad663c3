package io.pgwarden.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.MappingIterator;
import io.pgwarden.api.Dto;
import io.pgwarden.controller.http.LiveController;
import io.pgwarden.controller.http.SimKeepers;
import io.pgwarden.model.NodeState;
import io.pgwarden.persistence.Json;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The command line in-process ({@link Pgwarden#run}) against a live controller with idealised keepers:
 * every command an operator runs, its text and its --json output (parsed back into the API's types),
 * progress until an action settles, --watch, and the errors (two lines, exit codes 1, 2 and 3). Each
 * command and its output is printed, as docs/cli.md shows them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CliLiveTest {
  LiveController c;
  SimKeepers keepers;
  String url;

  record Run(int code, String out, String err) {
    List<String> errLines() {
      return err.lines().toList();
    }
  }

  @BeforeAll
  void start() {
    c = LiveController.start("cli", LiveController.FAST);
    url = c.base.toString();
  }

  @AfterAll
  void stop() {
    c.close();
  }

  /** Runs pgwarden with these arguments as given (no connection options added). */
  Run raw(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Pgwarden.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    Run r = new Run(code, out.toString(), err.toString());
    System.out.println("$ pgwarden " + String.join(" ", args).replace(c.operatorToken, "$TOKEN").replace(url, "$URL")
        + "\n" + r.out + r.err + "[exit " + code + "]\n");
    return r;
  }

  /** Runs pgwarden against the live controller with the operator token, for formation app. */
  Run cli(String... args) {
    List<String> a = new ArrayList<>(List.of(args));
    a.addAll(List.of("--monitor", url, "--token", c.operatorToken));
    if (!a.contains("--formation")) a.addAll(List.of("--formation", "app"));
    return raw(a.toArray(new String[0]));
  }

  static Run ok(Run r) {
    assertEquals(0, r.code(), r.out() + r.err());
    return r;
  }

  /** The error shape: exactly two lines, the cause then what to do. */
  static void twoLines(Run r, int code, String cause, String hint) {
    assertEquals(code, r.code(), r.out() + r.err());
    List<String> lines = r.errLines();
    assertEquals(2, lines.size(), r.err());
    assertTrue(lines.get(0).startsWith("error: ") && lines.get(0).contains(cause), lines.get(0));
    assertTrue(lines.get(1).startsWith("hint: ") && lines.get(1).contains(hint), lines.get(1));
  }

  // ---- set up ---------------------------------------------------------------------------------------

  @Test
  @Order(1)
  void createFormationThenTheKeepersJoin() {
    Run r = ok(cli("create", "formation", "--formation", "app", "--dbname", "shop"));
    assertEquals("formation app created (dbname shop)\n", r.out());
    twoLines(cli("create", "formation", "--formation", "app"), 1, "already exists (conflict, HTTP 409)",
        "pgwarden show state");
    keepers = c.keepers("app");
    keepers.add("node_a");
    SimKeepers.await(() -> keepers.node("node_a").state() == NodeState.SINGLE, Duration.ofSeconds(10), "single");
    keepers.add("node_b");
    keepers.awaitSettled(Duration.ofSeconds(10));
  }

  // ---- show ---------------------------------------------------------------------------------------

  @Test
  @Order(2)
  void showStateUriSettingsStandbyNamesEvents() throws Exception {
    Run state = ok(cli("show", "state"));
    List<String> lines = state.out().lines().toList();
    assertEquals(4, lines.size(), state.out());
    for (String h : List.of("Name", "Node", "Host:Port", "TLI: LSN", "Connection", "Reported State", "Assigned State")) {
      assertTrue(lines.get(0).contains(h), lines.get(0));
    }
    assertTrue(lines.get(2).startsWith("node_a") && lines.get(2).contains("read-write")
        && lines.get(2).matches(".*primary +\\| primary$"), lines.get(2));
    assertTrue(lines.get(3).startsWith("node_b") && lines.get(3).contains("read-only")
        && lines.get(3).endsWith("secondary"), lines.get(3));
    Dto.FormationState s = Json.read(ok(cli("show", "state", "--json")).out(), Dto.FormationState.class);
    assertEquals(2, s.nodes().size());
    assertEquals(keepers.node("node_a").id, s.primaryNodeId());

    Run uri = ok(cli("show", "uri"));
    assertTrue(uri.out().contains("postgres://127.0.0.1:") && uri.out().contains("jdbc:postgresql://"), uri.out());
    Dto.Uris u = Json.read(ok(cli("show", "uri", "--json")).out(), Dto.Uris.class);
    assertTrue(u.postgres().contains("/shop?target_session_attrs=read-write"), u.postgres());

    Run settings = ok(cli("show", "settings"));
    assertTrue(settings.out().contains("number_sync_standbys") && settings.out().contains("candidate priority"),
        settings.out());
    Dto.Settings st = Json.read(ok(cli("show", "settings", "--json")).out(), Dto.Settings.class);
    assertEquals(2, st.nodes().size());

    String names = "'ANY 1 (pgwarden_" + keepers.node("node_b").id + ")'\n";
    assertEquals(names, ok(cli("show", "standby-names")).out());
    assertEquals(st.syncStandbyNames(), Json.read(ok(cli("show", "standby-names", "--json")).out(),
        Dto.Settings.class).syncStandbyNames());

    Run events = ok(cli("show", "events", "--count", "4"));
    assertEquals(6, events.out().lines().count(), events.out());
    assertTrue(events.out().startsWith("Event Time"), events.out());
    Dto.EventPage page = Json.read(ok(cli("show", "events", "--count", "4", "--json")).out(), Dto.EventPage.class);
    assertEquals(4, page.events().size());
    assertTrue(page.events().get(0).ordering() > page.events().get(3).ordering(), "newest first");
  }

  @Test
  @Order(3)
  void watchStateIsBounded() throws Exception {
    Run text = ok(cli("show", "state", "--watch", "--interval", "50", "--watch-count", "3"));
    assertEquals(3, text.out().lines().filter(l -> l.startsWith("Name")).count(), text.out());
    Run json = ok(cli("show", "state", "--watch", "--interval", "50", "--watch-count", "2", "--json"));
    List<String> docs = json.out().lines().toList();
    assertEquals(2, docs.size(), json.out());
    for (String d : docs) assertEquals("app", Json.read(d, Dto.FormationState.class).formation());
  }

  // ---- actions --------------------------------------------------------------------------------------

  @Test
  @Order(4)
  void setCandidatePriorityAndTheRefusedNumberSyncStandbys() {
    Run r = ok(cli("set", "node", "candidate-priority", "--name", "node_b", "90"));
    assertTrue(r.out().startsWith("set-candidate-priority of node_b: succeeded (op-"), r.out());
    assertEquals(90, c.api.settings("app").nodes().stream().filter(n -> n.name().equals("node_b")).findFirst()
        .orElseThrow().candidatePriority());
    Dto.Operation op = Json.read(ok(cli("set", "node", "candidate-priority", "--name", "node_b", "80", "--json"))
        .out(), Dto.Operation.class);
    assertEquals("succeeded", op.status());
    assertEquals("admin", op.by().who());

    twoLines(cli("set", "formation", "number-sync-standbys", "2"), 1,
        "number_sync_standbys 2 needs at least 3 quorum standbys, the formation has 1 (conflict, HTTP 409)",
        "pgwarden show state");
    twoLines(cli("set", "node", "candidate-priority", "--name", "node_b", "101"), 1, "(bad_request, HTTP 400)",
        "check the values given");
    twoLines(cli("set", "node", "candidate-priority", "--name", "node_z", "10"), 1, "(not_found, HTTP 404)",
        "--name");
    assertEquals(0, c.api.settings("app").settings().numberSyncStandbys());
  }

  @Test
  @Order(5)
  void switchoverShowsProgressUntilItSettles() throws Exception {
    int before = c.api.state("app").primaryNodeId();
    Run r = ok(cli("perform", "switchover", "--wait", "20", "--reason", "kernel upgrade"));
    List<String> lines = r.out().lines().toList();
    assertTrue(lines.get(0).matches("switchover: accepted \\(op-\\d+\\)"), lines.get(0));
    assertTrue(lines.get(1).startsWith("Time") && lines.get(1).contains("Reported State"), lines.get(1));
    assertTrue(lines.stream().anyMatch(l -> l.contains("| node_a |")) && lines.stream().anyMatch(
        l -> l.contains("| node_b |")), r.out());
    assertTrue(List.of("draining", "demote_timeout", "demoted", "prepare_promotion", "stop_replication",
        "wait_primary").stream().anyMatch(r.out()::contains), "the progress shows the way there: " + r.out());
    assertTrue(lines.get(lines.size() - 1).startsWith("switchover succeeded in "), r.out());
    Dto.FormationState after = keepers.awaitSettled(Duration.ofSeconds(10));
    assertNotEquals(before, after.primaryNodeId());
    assertEquals(after.primaryNodeId(), keepers.writer().id, "the keepers followed");

    Dto.Operation back = Json.read(ok(cli("perform", "switchover", "--wait", "20", "--json")).out(),
        Dto.Operation.class);
    assertEquals("succeeded", back.status());
    assertEquals("switchover", back.kind());
    assertEquals(before, keepers.awaitSettled(Duration.ofSeconds(10)).primaryNodeId());
  }

  @Test
  @Order(6)
  void maintenanceOnAndOff() {
    keepers.awaitSettled(Duration.ofSeconds(10));
    twoLines(cli("enable", "maintenance", "--name", "node_a"), 1, "repeat with allow_failover", "pgwarden show state");
    Run on = ok(cli("enable", "maintenance", "--name", "node_b", "--wait", "20"));
    assertTrue(on.out().contains("maintenance"), on.out());
    SimKeepers.await(() -> keepers.node("node_b").state() == NodeState.MAINTENANCE, Duration.ofSeconds(5),
        "in maintenance");
    assertTrue(ok(cli("show", "state")).out().contains("maintenance"));
    Run off = ok(cli("disable", "maintenance", "--name", "node_b", "--wait", "20"));
    assertTrue(off.out().lines().toList().get(off.out().lines().toList().size() - 1)
        .startsWith("maintenance-off succeeded"), off.out());
    keepers.awaitSettled(Duration.ofSeconds(10));

    // an action that does not settle within --wait: exit 1, and it goes on once the keeper moves
    keepers.node("node_b").frozen = true;
    try {
      Run slow = cli("enable", "maintenance", "--name", "node_b", "--wait", "1");
      twoLines(slow, 1, ") did not settle within 1 s", "pgwarden show state --watch --formation app");
      assertTrue(slow.out().contains("wait_maintenance"), slow.out());
    } finally {
      keepers.node("node_b").frozen = false;
    }
    SimKeepers.await(() -> keepers.node("node_b").state() == NodeState.MAINTENANCE, Duration.ofSeconds(5),
        "in maintenance at last");
    ok(cli("disable", "maintenance", "--name", "node_b", "--wait", "20"));
    keepers.awaitSettled(Duration.ofSeconds(10));
  }

  @Test
  @Order(7)
  void watchEventsStreamsNewEvents() throws Exception {
    CompletableFuture<Run> watching = CompletableFuture.supplyAsync(
        () -> cli("show", "events", "--watch", "--count", "1", "--watch-count", "2"));
    Thread.sleep(300);
    ok(cli("set", "node", "candidate-priority", "--name", "node_b", "60", "--reason", "watch me"));
    Run w = watching.get(10, TimeUnit.SECONDS);
    assertEquals(0, w.code(), w.err());
    List<String> lines = w.out().lines().toList();
    assertEquals(5, lines.size(), w.out()); // header, rule, the newest event, then the two new ones
    assertTrue(w.out().contains("node-settings-changed"), w.out());
    assertTrue(w.out().contains("watch me"), w.out());

    CompletableFuture<Run> json = CompletableFuture.supplyAsync(
        () -> cli("show", "events", "--watch", "--count", "1", "--watch-count", "2", "--json"));
    Thread.sleep(300);
    ok(cli("set", "node", "candidate-priority", "--name", "node_b", "50"));
    Run j = json.get(10, TimeUnit.SECONDS);
    assertEquals(0, j.code(), j.err());
    try (MappingIterator<Dto.EventView> it = Json.MAPPER.readerFor(Dto.EventView.class).readValues(j.out())) {
      List<Dto.EventView> events = it.readAll();
      assertEquals(3, events.size(), j.out());
      assertTrue(events.get(1).ordering() < events.get(2).ordering());
    }
  }

  @Test
  @Order(8)
  void promotionSettingsAndDroppingANode() {
    keepers.awaitSettled(Duration.ofSeconds(10));
    int before = c.api.state("app").primaryNodeId();
    String other = before == keepers.node("node_a").id ? "node_b" : "node_a";
    Run p = ok(cli("perform", "promotion", "--name", other, "--wait", "20"));
    assertTrue(p.out().startsWith("promotion of " + other + ": accepted"), p.out());
    assertEquals(keepers.node(other).id, keepers.awaitSettled(Duration.ofSeconds(10)).primaryNodeId());
    twoLines(cli("perform", "promotion", "--name", other), 1, "is already the primary", "pgwarden show state");

    ok(cli("set", "node", "replication-quorum", "--name", "node_b", "false"));
    assertTrue(!c.api.settings("app").nodes().stream().filter(n -> n.name().equals("node_b")).findFirst()
        .orElseThrow().replicationQuorum());
    ok(cli("set", "node", "replication-quorum", "--name", "node_b", "true"));
    ok(cli("set", "formation", "failover-data-loss-allowed", "1048576"));
    assertEquals(1048576, c.api.settings("app").settings().failoverDataLossAllowed());

    keepers.add("node_c");
    keepers.awaitSettled(Duration.ofSeconds(10));
    assertEquals(3, c.api.state("app").nodes().size());
    long term = c.api.state("app").term();
    Run d = ok(cli("drop", "node", "--name", "node_c", "--wait", "20"));
    assertTrue(d.out().startsWith("drop-node of node_c: "), d.out());
    SimKeepers.await(() -> c.api.state("app").nodes().size() == 2, Duration.ofSeconds(10), "node_c removed");
    // its keeper's held report is answered when the node is removed (404), not left to time out
    SimKeepers.await(() -> !keepers.node("node_c").running(), Duration.ofSeconds(2), "node_c's keeper stopped");
    assertEquals(term, c.api.state("app").term(), "the supervisor ran on: no restart raised the term");
    keepers.awaitSettled(Duration.ofSeconds(10));
  }

  @Test
  @Order(9)
  void commandsThatNeedNoController() throws Exception {
    java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("pgw-cli-monitor").resolve("monitor");
    try {
      Run m = ok(raw("create", "monitor", "--dir", dir.toString(), "--listen", "127.0.0.1:7000"));
      assertTrue(m.out().startsWith("controller created in " + dir), m.out());
      assertTrue(m.out().lines().anyMatch(l -> l.startsWith("pgwo_")), m.out());
      assertTrue(java.nio.file.Files.exists(dir.resolve("pgwarden.json")));
      twoLines(raw("create", "monitor", "--dir", dir.toString()), 1, "already holds a pgwarden configuration",
          "pgwarden run --dir");
      Run unit = ok(raw("show", "systemd", "--dir", "/var/lib/pgwarden/node_a"));
      assertTrue(unit.out().contains("ExecStart=/usr/local/bin/pgwarden run --dir /var/lib/pgwarden/node_a"),
          unit.out());
    } finally {
      io.pgwarden.testing.TestPostgres.deleteTree(dir.getParent());
    }
  }

  // ---- tokens and errors ----------------------------------------------------------------------------

  @Test
  @Order(10)
  void aNewTokenWorksAtOnce() {
    Run t = ok(raw("token", "create", "--dir", c.dir.toString(), "--name", "bob"));
    String token = t.out().strip();
    assertTrue(token.startsWith("pgwo_"), token);
    ok(raw("show", "state", "--formation", "app", "--monitor", url, "--token", token));
    Dto.Operation op = Json.read(ok(raw("set", "node", "candidate-priority", "--name", "node_b", "55", "--json",
        "--formation", "app", "--monitor", url, "--token", token)).out(), Dto.Operation.class);
    assertEquals("bob", op.by().who(), "the journal names the token's owner");
    // the controller's directory gives the URL and the saved token
    ok(raw("show", "uri", "--formation", "app", "--dir", c.dir.toString()));
  }

  @Test
  @Order(11)
  void errorsAreTwoLinesAndAnExitCode() {
    twoLines(raw("show", "state", "--formation", "app", "--monitor", "http://127.0.0.1:" + freePort(), "--token",
        "pgwo_x"), 3, "cannot reach http://127.0.0.1:", "check that the controller runs");
    Assumptions.assumeTrue(System.getenv("PGWARDEN_TOKEN") == null, "PGWARDEN_TOKEN is set in this environment");
    twoLines(raw("show", "state", "--formation", "app", "--monitor", url), 1, "(unauthorized, HTTP 401)",
        "pass an operator token with --token, PGWARDEN_TOKEN or --token-file");
    twoLines(raw("show", "state", "--formation", "app", "--monitor", url, "--token", "pgwo_wrong"), 1,
        "unknown or revoked credential", "--token");
    twoLines(cli("show", "state", "--formation", "nope"), 1, "(not_found, HTTP 404)", "--formation");
    twoLines(raw("show", "state", "--bogus"), 2, "Unknown option: '--bogus'", "see 'pgwarden show state --help'");
    twoLines(raw("show"), 2, "Missing required subcommand", "see 'pgwarden show --help' for its commands");
    twoLines(raw("set", "node", "candidate-priority", "--name", "x", "high"), 2, "'high' is not a long",
        "--help");
    if (System.getenv("PGWARDEN_MONITOR") == null) {
      twoLines(raw("show", "state"), 2, "no controller given", "--monitor");
    }
  }

  static int freePort() {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
