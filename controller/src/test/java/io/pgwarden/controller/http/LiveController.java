package io.pgwarden.controller.http;

import io.pgwarden.api.ApiClient;
import io.pgwarden.api.TokenStore;
import io.pgwarden.controller.app.ControllerApp;
import io.pgwarden.controller.app.ControllerConfig;
import io.pgwarden.model.Timing;
import io.pgwarden.testing.TestPostgres;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The real controller for tests: {@link ControllerApp} on a temporary directory with an H2 journal,
 * serving HTTP on a free loopback port, with an operator token from the token file, and fast timings.
 * Its configuration is saved with the bound port, so {@code --dir} works for the command line too.
 */
public final class LiveController implements AutoCloseable {
  /** Failovers in about a second of real time (the same figures as the supervisor tests). */
  public static final Timing FAST = new Timing(100, 600, 50_000, 50, 600, 100, 150, 500, 10_000, 500, 20, 300,
      16L * 1024 * 1024);

  /**
   * Nothing happens by itself within a test's lifetime: no probes, no silence, no lease runs out. Only
   * requests change the journal (for the fuzz test's "refused requests change nothing").
   */
  public static final Timing QUIET = new Timing(100, 600_000, 50_000, 50, 600_000, 600_000, 150, 600_000,
      600_000, 600_000, 100, 60_000, 16L * 1024 * 1024);

  public final Path dir;
  public final ControllerConfig config;
  public final ControllerApp app;
  public final String operatorToken;
  public final URI base;
  public final ApiClient api;
  private final List<SimKeepers> keepers = new ArrayList<>();

  private LiveController(Path dir, ControllerConfig config, ControllerApp app, String token) {
    this.dir = dir;
    this.config = config;
    this.app = app;
    this.operatorToken = token;
    this.base = URI.create("http://127.0.0.1:" + app.port());
    this.api = new ApiClient(base, token, Duration.ofSeconds(10), null);
  }

  public static LiveController start(String name, Timing timing) {
    Path dir = null;
    try {
      dir = Files.createTempDirectory("pgw-live-" + name);
      String token = TokenStore.create(dir.resolve(ControllerConfig.TOKENS_FILE), "admin");
      ControllerConfig cfg = new ControllerConfig("controller", "127.0.0.1", 0, "", null, null, null, null, false,
          timing);
      ControllerApp app = ControllerApp.start(dir, cfg);
      ControllerConfig bound = new ControllerConfig("controller", "127.0.0.1", app.port(), "", null, null, null, null,
          false, timing);
      bound.save(dir);
      Files.writeString(dir.resolve(ControllerConfig.OPERATOR_TOKEN_FILE), token + "\n");
      LiveController c = new LiveController(dir, bound, app, token);
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (!c.api.ready()) {
        if (System.nanoTime() > deadline) throw new AssertionError("controller not ready in 20 s");
        Thread.sleep(20);
      }
      return c;
    } catch (Exception e) {
      if (dir != null) TestPostgres.deleteTree(dir);
      if (e instanceof RuntimeException r) throw r;
      throw new IllegalStateException(e);
    }
  }

  /**
   * Idealised keepers for {@code formation}, stopped when the controller is closed. Their reports are
   * held up to the report interval of the controller's timing.
   */
  public SimKeepers keepers(String formation) {
    SimKeepers k = new SimKeepers(base, formation, api, Duration.ofMillis(config.timing().reportIntervalMs()));
    keepers.add(k);
    return k;
  }

  /** Rows in the journal table: every event of every persistent actor. */
  public long journalRows() {
    try (Connection c = config.journal(dir).connect(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM \"event_journal\"")) {
      rs.next();
      return rs.getLong(1);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Waits until the journal's row count holds still for {@code quietMs}; returns it. */
  public long settledJournalRows(long quietMs, long maxMs) {
    long deadline = System.nanoTime() + maxMs * 1_000_000;
    long last = journalRows();
    long since = System.nanoTime();
    while (System.nanoTime() < deadline) {
      sleep(10);
      long now = journalRows();
      if (now != last) {
        last = now;
        since = System.nanoTime();
      } else if (System.nanoTime() - since >= quietMs * 1_000_000) {
        return now;
      }
    }
    throw new AssertionError("the journal kept changing for " + maxMs + " ms");
  }

  static void sleep(long ms) {
    io.pgwarden.lab.Lab.sleep(ms);
  }

  @Override
  public void close() {
    for (SimKeepers k : keepers) k.close();
    app.close();
    TestPostgres.deleteTree(dir);
  }
}
