package io.pgwarden.controller.keeper;

import io.pgwarden.api.ApiClient;
import io.pgwarden.api.Dto;
import io.pgwarden.api.TokenStore;
import io.pgwarden.cli.Pgwarden;
import io.pgwarden.controller.app.ControllerApp;
import io.pgwarden.controller.app.ControllerConfig;
import io.pgwarden.keeper.StepRunner;
import io.pgwarden.keeper.app.KeeperApp;
import io.pgwarden.keeper.pg.LocalPg;
import io.pgwarden.keeper.pg.PgCluster;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.Timing;
import io.pgwarden.os.OsUser;
import io.pgwarden.testing.TestPostgres;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;

/**
 * A real controller ({@link ControllerApp}, H2 journal, HTTP on a fixed loopback port so that it can be
 * stopped and started again at the same address) and real keepers ({@link KeeperApp}) with real
 * PostgreSQL nodes, all under one temporary directory owned by the PostgreSQL user. Nodes are created
 * with the command line ({@code pgwarden create postgres}).
 */
final class LiveFormation implements AutoCloseable {
  static final String PG_USER = OsUser.pgUserFor(System.getenv("PGWARDEN_PG_USER"));

  final Path root;
  final Path controllerDir;
  final Timing timing;
  final int controllerPort;
  final String token;
  final URI url;
  final ApiClient api;
  final String formation;
  private ControllerApp controller;
  private final Map<String, Node> nodes = new TreeMap<>();

  /** One PostgreSQL node and its keeper. */
  final class Node {
    final String name;
    final Path base;
    final Path pgdata;
    final Path keeperDir;
    final int pgport;
    final int keeperPort;
    KeeperApp keeper;
    LocalPg pg;

    Node(String name) {
      this.name = name;
      this.base = root.resolve(name);
      this.pgdata = base.resolve("data");
      this.keeperDir = base.resolve("keeper");
      this.pgport = TestPostgres.freePort();
      this.keeperPort = TestPostgres.freePort();
    }

    int id() {
      return keeper.config().nodeId();
    }

    void start(StepRunner.Hook hook) {
      keeper = KeeperApp.start(keeperDir, new KeeperApp.Options(hook == null ? StepRunner.Hook.NONE : hook,
          io.pgwarden.keeper.KeeperClock.SYSTEM, false));
      pg = keeper.localPg();
    }

    void halt() {
      keeper.halt();
    }

    boolean pgRunning() {
      return new PgCluster(pg).isRunning();
    }

    Connection connect() throws SQLException {
      return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pgport + "/app?connectTimeout=2"
          + "&socketTimeout=10", "postgres", "");
    }

    /** The health endpoint's status code for {@code method path}. */
    int health(String method, String path) {
      return healthResponse(method, path).statusCode();
    }

    String healthBody(String path) {
      return healthResponse("GET", path).body();
    }

    java.net.http.HttpResponse<String> healthResponse(String method, String path) {
      try {
        var c = java.net.http.HttpClient.newHttpClient();
        var r = c.send(java.net.http.HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + keeperPort + path))
            .method(method, java.net.http.HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(5)).build(),
            java.net.http.HttpResponse.BodyHandlers.ofString());
        return r;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  LiveFormation(String name, Timing timing) {
    this.timing = timing;
    this.formation = "app";
    try {
      root = Files.createTempDirectory("pgw-keepers-" + name + "-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    OsUser.chown(root, PG_USER);
    controllerDir = root.resolve("controller");
    controllerPort = TestPostgres.freePort();
    try {
      Files.createDirectories(controllerDir);
      token = TokenStore.create(controllerDir.resolve(ControllerConfig.TOKENS_FILE), "admin");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    url = URI.create("http://127.0.0.1:" + controllerPort);
    api = new ApiClient(url, token, Duration.ofSeconds(10), null);
    startController();
    api.createFormation(new Dto.CreateFormation(formation, "app", 0, null, "keeper tests"));
  }

  ControllerConfig controllerConfig() {
    return new ControllerConfig("controller", "127.0.0.1", controllerPort, "", null, null, null, null, false, timing);
  }

  void startController() {
    controller = ControllerApp.start(controllerDir, controllerConfig());
    await("controller ready", Duration.ofSeconds(30), api::ready);
  }

  void stopController() {
    controller.close();
    controller = null;
  }

  /** Runs {@code pgwarden args...} in-process; returns exit code, stdout and stderr. */
  record Cli(int code, String out, String err) {}

  Cli cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Pgwarden.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    Cli c = new Cli(code, out.toString(), err.toString());
    System.out.println("$ pgwarden " + String.join(" ", args).replace(token, "$TOKEN") + "\n" + c.out + c.err
        + "[exit " + code + "]");
    return c;
  }

  Node node(String name) {
    return nodes.computeIfAbsent(name, Node::new);
  }

  /** The {@code create postgres} arguments for {@code n}, plus {@code extra}. */
  List<String> createArgs(Node n, String... extra) {
    List<String> a = new ArrayList<>(List.of("create", "postgres", "--monitor", url.toString(), "--token", token,
        "--formation", formation, "--name", n.name, "--pgdata", n.pgdata.toString(), "--pgport",
        Integer.toString(n.pgport), "--hostname", "127.0.0.1", "--keeper-listen", "127.0.0.1:" + n.keeperPort,
        "--dir", n.keeperDir.toString(), "--pg-setting", "shared_buffers=16MB", "--pg-setting",
        "max_connections=40"));
    a.addAll(List.of(extra));
    return a;
  }

  Dto.FormationState state() {
    return api.state(formation);
  }

  Dto.NodeView view(Node n) {
    return state().nodes().stream().filter(v -> v.name().equals(n.name)).findFirst().orElseThrow();
  }

  boolean reached(Node n, NodeState s) {
    Dto.NodeView v = view(n);
    return v.assignedState() == s && v.reportedState() == s;
  }

  static void await(String what, Duration max, BooleanSupplier cond) {
    try {
      io.pgwarden.lab.Lab.await(what, max, cond);
    } catch (IllegalStateException e) {
      throw new AssertionError(e.getMessage());
    }
  }

  static void sleep(long ms) {
    io.pgwarden.lab.Lab.sleep(ms);
  }

  @Override
  public void close() {
    for (Node n : nodes.values()) {
      try {
        if (n.keeper != null) n.keeper.halt();
        if (n.pg != null) new PgCluster(n.pg).stop(PgCluster.StopMode.IMMEDIATE, Duration.ofSeconds(3));
      } catch (RuntimeException e) {
        System.err.println("cleanup of " + n.name + ": " + e);
      }
    }
    if (controller != null) controller.close();
    TestPostgres.deleteTree(root);
  }
}
