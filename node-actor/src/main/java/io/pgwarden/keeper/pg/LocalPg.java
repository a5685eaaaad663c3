package io.pgwarden.keeper.pg;

import io.pgwarden.os.PgBinaries;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Everything the PostgreSQL operations need to know about the local node.
 *
 * @param nodeId the node id the controller gave this node; names its application name and slot
 * @param pgdata the data directory
 * @param port the port PostgreSQL listens on
 * @param listenAddress listen_addresses ("127.0.0.1" in tests, "*" in production)
 * @param socketDir unix_socket_directories: a directory the PostgreSQL user owns (never /var/run/postgresql)
 * @param logDir where the server log ({@code postgresql.log}) goes; outside PGDATA so clones do not copy it
 * @param pgUser the OS user PostgreSQL runs as; null when pgwarden does not run as root
 * @param bin the PostgreSQL server programs
 * @param superuser the database superuser the keeper connects as (over loopback TCP)
 * @param superuserPassword its password; null means a trust rule for that one role on loopback only
 * @param replicationUser the role standbys, pg_basebackup and pg_rewind connect as
 * @param replicationPassword its password; null means trust rules for that role from the peers only
 * @param dbname the application database created on the primary
 * @param durable false only in tests: fsync off and --no-sync for initdb/pg_basebackup/pg_rewind
 * @param extraSettings settings appended to pgwarden.conf (tests: small shared_buffers)
 * @param timeouts how long each kind of step may take
 */
public record LocalPg(
    int nodeId,
    Path pgdata,
    int port,
    String listenAddress,
    Path socketDir,
    Path logDir,
    String pgUser,
    PgBinaries bin,
    String superuser,
    String superuserPassword,
    String replicationUser,
    String replicationPassword,
    String dbname,
    boolean durable,
    Map<String, String> extraSettings,
    Timeouts timeouts) {

  public static final String NAME_PREFIX = "pgwarden_";
  public static final String DEFAULT_REPLICATION_USER = "pgwarden_replicator";
  private static final Pattern NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

  /** Time budgets. Commands are killed (with their process tree) when they run out. */
  public record Timeouts(
      Duration start, Duration stop, Duration sql, Duration facts, Duration promote, Duration basebackup,
      Duration rewind) {
    public static Timeouts defaults() {
      return new Timeouts(Duration.ofSeconds(60), Duration.ofSeconds(30), Duration.ofSeconds(10),
          Duration.ofSeconds(1), Duration.ofSeconds(10), Duration.ofHours(2), Duration.ofMinutes(30));
    }
  }

  public LocalPg {
    Objects.requireNonNull(pgdata, "pgdata");
    Objects.requireNonNull(bin, "bin");
    if (nodeId < 0) throw new IllegalArgumentException("node id must be >= 0, got " + nodeId);
    if (port < 1 || port > 65535) throw new IllegalArgumentException("port out of range: " + port);
    pgdata = pgdata.toAbsolutePath().normalize();
    if (pgdata.getParent() == null) throw new IllegalArgumentException("PGDATA cannot be the root directory");
    listenAddress = listenAddress == null || listenAddress.isBlank() ? "127.0.0.1" : listenAddress.trim();
    socketDir = socketDir == null ? pgdata.resolveSibling("run") : socketDir.toAbsolutePath().normalize();
    logDir = logDir == null ? pgdata.resolveSibling("log") : logDir.toAbsolutePath().normalize();
    superuser = superuser == null ? "postgres" : superuser;
    replicationUser = replicationUser == null ? DEFAULT_REPLICATION_USER : replicationUser;
    dbname = dbname == null ? "postgres" : dbname;
    for (String n : new String[] {superuser, replicationUser}) {
      if (!NAME.matcher(n).matches()) throw new IllegalArgumentException("not a plain role name: '" + n + "'");
    }
    if (!NAME.matcher(dbname).matches()) throw new IllegalArgumentException("not a plain database name: '" + dbname + "'");
    if (!listenAddress.matches("[A-Za-z0-9.:*, _-]+")) {
      throw new IllegalArgumentException("listen address has unexpected characters: '" + listenAddress + "'");
    }
    extraSettings = extraSettings == null ? Map.of() : Map.copyOf(new TreeMap<>(extraSettings));
    timeouts = timeouts == null ? Timeouts.defaults() : timeouts;
  }

  /** A node with production defaults: sockets in {@code <pgdata>/../run}, logs in {@code <pgdata>/../log}. */
  public static LocalPg of(int nodeId, Path pgdata, int port, String listenAddress, String pgUser, PgBinaries bin) {
    return new LocalPg(nodeId, pgdata, port, listenAddress, null, null, pgUser, bin, null, null, null, null, null,
        true, Map.of(), null);
  }

  public LocalPg withTesting(Map<String, String> settings) {
    return new LocalPg(nodeId, pgdata, port, listenAddress, socketDir, logDir, pgUser, bin, superuser,
        superuserPassword, replicationUser, replicationPassword, dbname, false, settings, timeouts);
  }

  public LocalPg withTimeouts(Timeouts t) {
    return new LocalPg(nodeId, pgdata, port, listenAddress, socketDir, logDir, pgUser, bin, superuser,
        superuserPassword, replicationUser, replicationPassword, dbname, durable, extraSettings, t);
  }

  public LocalPg withDbname(String db) {
    return new LocalPg(nodeId, pgdata, port, listenAddress, socketDir, logDir, pgUser, bin, superuser,
        superuserPassword, replicationUser, replicationPassword, db, durable, extraSettings, timeouts);
  }

  /** {@code pgwarden_<nodeId>}: this node's application_name as a standby, and its slot on the others. */
  public String applicationName() {
    return nameFor(nodeId);
  }

  /** A short label for log lines. */
  public String label() {
    return "node " + nodeId;
  }

  public static String nameFor(int nodeId) {
    return NAME_PREFIX + nodeId;
  }

  /** The node id in a {@code pgwarden_<id>} name, or null for any other name. */
  public static Integer nodeIdOf(String name) {
    if (name == null || !name.startsWith(NAME_PREFIX)) return null;
    String rest = name.substring(NAME_PREFIX.length());
    if (rest.isEmpty() || rest.length() > 9 || !rest.chars().allMatch(Character::isDigit)) return null;
    return Integer.parseInt(rest);
  }

  /** The address the keeper connects to its own PostgreSQL on. */
  public String connectHost() {
    String first = listenAddress.split(",")[0].trim();
    return switch (first) {
      case "*", "0.0.0.0", "", "localhost" -> "127.0.0.1";
      case "::" -> "::1";
      default -> first;
    };
  }

  Path file(String name) {
    return pgdata.resolve(name);
  }
}
