package io.pgwarden.testing;

import io.pgwarden.os.Command;
import io.pgwarden.os.OsUser;
import io.pgwarden.os.PgBinaries;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A real PostgreSQL for tests: initdb'd into a temporary directory, listening on a free loopback port,
 * run as a non-root user when the tests run as root ({@code PGWARDEN_PG_USER}, default postgres).
 */
public final class TestPostgres implements AutoCloseable {
  private final PgBinaries bin = PgBinaries.locate();
  private final String runAs = OsUser.pgUserFor(System.getenv("PGWARDEN_PG_USER"));
  private final Path dir;
  private final Path data;
  private final int port;

  private TestPostgres(String name) throws IOException {
    dir = Files.createTempDirectory("pgw-" + name + "-");
    data = dir.resolve("data");
    port = freePort();
    OsUser.chown(dir, runAs);
    run("initdb", bin.argv("initdb", "-D", data.toString(), "-U", "postgres", "--auth=trust", "-E", "UTF8",
        "--no-sync", "--no-instructions"));
    Files.writeString(data.resolve("postgresql.auto.conf"), String.join("\n",
        "listen_addresses = '127.0.0.1'",
        "port = " + port,
        "unix_socket_directories = '" + dir + "'",
        "fsync = off",
        "synchronous_commit = off",
        "max_connections = 50",
        "shared_buffers = '16MB'",
        ""));
    OsUser.chown(dir, runAs);
    run("pg_ctl start", bin.argv("pg_ctl", "start", "-w", "-t", "60", "-D", data.toString(), "-l",
        dir.resolve("log").toString()));
  }

  public static TestPostgres start(String name) {
    try {
      return new TestPostgres(name);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public int port() {
    return port;
  }

  public String jdbcUrl(String db) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + db;
  }

  public String jdbcUrl() {
    return jdbcUrl("postgres");
  }

  public Path dataDir() {
    return data;
  }

  private void run(String what, List<String> argv) {
    Command.Result r = Command.of(what, argv, Duration.ofSeconds(120)).runningAs(runAs).run();
    if (!r.ok()) throw new IllegalStateException(r.describe());
  }

  @Override
  public void close() {
    Command.of("pg_ctl stop", bin.argv("pg_ctl", "stop", "-m", "immediate", "-w", "-D", data.toString()),
        Duration.ofSeconds(60)).runningAs(runAs).run();
    deleteTree(dir);
  }

  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public static void deleteTree(Path root) {
    io.pgwarden.os.Dirs.deleteTree(root);
  }
}
