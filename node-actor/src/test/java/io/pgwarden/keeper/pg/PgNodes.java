package io.pgwarden.keeper.pg;

import io.pgwarden.os.Command;
import io.pgwarden.os.OsUser;
import io.pgwarden.os.PgBinaries;
import io.pgwarden.testing.TestPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * Test nodes under one temporary directory owned by the PostgreSQL user (tests run as root, PostgreSQL
 * as {@code postgres}), each on a free loopback port. Closing stops every node (immediate) and deletes
 * everything.
 */
public final class PgNodes implements AutoCloseable {
  public static final PgBinaries BIN = PgBinaries.locate();
  public static final String PG_USER = OsUser.pgUserFor(System.getenv("PGWARDEN_PG_USER"));
  public static final Map<String, String> SMALL = Map.of("shared_buffers", "16MB", "max_connections", "30",
      "max_wal_size", "256MB", "min_wal_size", "32MB");

  private final Path root;
  private final List<LocalPg> nodes = new ArrayList<>();
  private final List<Long> stoppedPids = new ArrayList<>();

  public PgNodes(String name) {
    try {
      root = Files.createTempDirectory("pgw-" + name + "-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    OsUser.chown(root, PG_USER);
  }

  public LocalPg node(int id) {
    Path dir = root.resolve("n" + id);
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    OsUser.chown(dir, PG_USER);
    LocalPg pg = LocalPg.of(id, dir.resolve("data"), TestPostgres.freePort(), "127.0.0.1", PG_USER, BIN)
        .withTesting(SMALL);
    nodes.add(pg);
    return pg;
  }

  public Path root() {
    return root;
  }

  public static StandbyConfig.Upstream upstream(LocalPg pg) {
    return new StandbyConfig.Upstream("127.0.0.1", pg.port());
  }

  public static List<HbaConfig.Peer> peers(LocalPg... all) {
    List<HbaConfig.Peer> l = new ArrayList<>();
    for (LocalPg p : all) l.add(new HbaConfig.Peer(p.nodeId(), "127.0.0.1"));
    return l;
  }

  public static Connection connect(LocalPg pg) throws SQLException {
    return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pg.port() + "/postgres?connectTimeout=5"
        + "&socketTimeout=30", "postgres", "");
  }

  public static void exec(LocalPg pg, String... sql) {
    try (Connection c = connect(pg); Statement st = c.createStatement()) {
      for (String s : sql) st.execute(s);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  public static String one(LocalPg pg, String sql) {
    try (Connection c = connect(pg); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Polls {@code cond} every 10 ms until it holds; fails the test after {@code timeout}. */
  public static void await(String what, Duration timeout, BooleanSupplier cond) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
      PgCluster.pause(10);
    }
  }

  /** The postmaster and its children, for SIGSTOP tests on servers these tests started. */
  public static List<Long> processTree(LocalPg pg) {
    long pid = new PgCluster(pg).postmasterPid().orElseThrow();
    List<Long> pids = new ArrayList<>();
    pids.add(pid);
    ProcessHandle.of(pid).ifPresent(h -> h.descendants().forEach(d -> pids.add(d.pid())));
    return pids;
  }

  public void signal(String sig, List<Long> pids) {
    List<String> argv = new ArrayList<>(List.of("kill", "-" + sig));
    pids.forEach(p -> argv.add(Long.toString(p)));
    Command.of("kill", argv, Duration.ofSeconds(5)).run();
    if (sig.equals("STOP")) stoppedPids.addAll(pids);
    if (sig.equals("CONT")) stoppedPids.removeAll(pids);
  }

  @Override
  public void close() {
    if (!stoppedPids.isEmpty()) signal("CONT", new ArrayList<>(stoppedPids));
    for (LocalPg pg : nodes) {
      try {
        new PgCluster(pg).stop(PgCluster.StopMode.IMMEDIATE, Duration.ofSeconds(5));
      } catch (RuntimeException e) {
        System.err.println("cleanup of " + pg.label() + ": " + e);
      }
    }
    TestPostgres.deleteTree(root);
  }
}
