package io.pgwarden.keeper.app;

import io.pgwarden.keeper.pg.LocalPg;
import io.pgwarden.model.Timing;
import io.pgwarden.os.OsUser;
import io.pgwarden.os.PgBinaries;
import io.pgwarden.persistence.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.TreeMap;

/**
 * A keeper's configuration, {@code pgwarden.json} with {@code "role": "keeper"} in the keeper's
 * directory, written by {@code pgwarden create postgres} and read by {@code pgwarden run}. The node
 * credential is not in it: it is in {@link #CREDENTIAL_FILE} beside it (mode 0600); the configuration
 * file is 0600 too.
 *
 * @param formation the formation the node belongs to
 * @param nodeId the id the controller gave it
 * @param name its name in the formation
 * @param monitor the controller's URL
 * @param pgdata the data directory
 * @param pgport PostgreSQL's port
 * @param hostname the address the controller and the peers reach this node's PostgreSQL at
 * @param listen PostgreSQL's listen_addresses
 * @param pgUser the OS user PostgreSQL runs as when pgwarden is root
 * @param keeperListen HOST:PORT the keeper API binds
 * @param keeperApiUrl the keeper API's URL as registered with the controller (peers call it)
 * @param timing the failover timeouts, as the controller reported them at registration
 * @param durable false only for tests (fsync off, initdb/pg_basebackup/pg_rewind --no-sync)
 * @param pgSettings extra settings written into pgwarden.conf
 */
public record KeeperFileConfig(String role, String formation, int nodeId, String name, String monitor, String pgdata,
    int pgport, String hostname, String listen, String pgUser, String keeperListen, String keeperApiUrl, Timing timing,
    Boolean durable, Map<String, String> pgSettings) {

  public static final String FILE = "pgwarden.json";
  public static final String CREDENTIAL_FILE = "node.credential";
  public static final String ROLE = "keeper";

  public KeeperFileConfig {
    role = ROLE;
    timing = timing == null ? Timing.DEFAULT : timing;
    durable = durable == null ? Boolean.TRUE : durable;
    pgSettings = pgSettings == null ? Map.of() : Map.copyOf(new TreeMap<>(pgSettings));
    pgUser = pgUser == null || pgUser.isBlank() ? "postgres" : pgUser;
  }

  public Path pgdataPath() {
    return Path.of(pgdata);
  }

  /** The keeper API's bind address. */
  public String keeperHost() {
    return hostPort(keeperListen)[0];
  }

  public int keeperPort() {
    return Integer.parseInt(hostPort(keeperListen)[1]);
  }

  static String[] hostPort(String s) {
    int i = s == null ? -1 : s.lastIndexOf(':');
    if (i <= 0) throw new IllegalArgumentException("not HOST:PORT: '" + s + "'");
    String host = s.substring(0, i);
    if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
    return new String[] {host, s.substring(i + 1)};
  }

  /**
   * What the PostgreSQL operations need. Resolves the PostgreSQL user (when root) and the server
   * programs, failing with the fix when either is missing.
   */
  public LocalPg localPg() {
    String user = OsUser.pgUserFor(pgUser);
    PgBinaries bin = PgBinaries.locate();
    LocalPg pg = LocalPg.of(nodeId, pgdataPath(), pgport, listen, user, bin);
    if (!durable || !pgSettings.isEmpty()) {
      pg = new LocalPg(pg.nodeId(), pg.pgdata(), pg.port(), pg.listenAddress(), pg.socketDir(), pg.logDir(),
          pg.pgUser(), pg.bin(), pg.superuser(), pg.superuserPassword(), pg.replicationUser(), pg.replicationPassword(),
          pg.dbname(), durable, pgSettings, pg.timeouts());
    }
    return pg;
  }

  /** The node credential stored beside the configuration. */
  public static String credential(Path dir) {
    Path f = dir.resolve(CREDENTIAL_FILE);
    try {
      return Files.readString(f, StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the node credential " + f + ": " + e.getMessage()
          + "; it is written by 'pgwarden create postgres'", e);
    }
  }

  public static boolean exists(Path dir) {
    return Files.exists(dir.resolve(FILE));
  }

  public static KeeperFileConfig load(Path dir) {
    Path f = dir.resolve(FILE);
    if (!Files.isRegularFile(f)) {
      throw new IllegalStateException("no " + FILE + " in " + dir + ": create it with 'pgwarden create postgres'");
    }
    KeeperFileConfig c;
    try {
      c = Json.MAPPER.readValue(Files.readString(f, StandardCharsets.UTF_8), KeeperFileConfig.class);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + f + ": " + e.getMessage(), e);
    }
    String role = Json.read(readQuietly(f), com.fasterxml.jackson.databind.JsonNode.class).path("role").asText("");
    if (!ROLE.equals(role)) throw new IllegalStateException(f + " is not a keeper's configuration (role '" + role + "')");
    return c;
  }

  private static String readQuietly(Path f) {
    try {
      return Files.readString(f, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes the configuration and the credential (both 0600), each atomically. */
  public void save(Path dir, String credential) {
    try {
      Files.createDirectories(dir);
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
      writePrivate(dir.resolve(CREDENTIAL_FILE), credential + "\n");
      writePrivate(dir.resolve(FILE), Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(this) + "\n");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the keeper configuration in " + dir + ": " + e.getMessage(), e);
    }
  }

  private static void writePrivate(Path f, String text) throws IOException {
    Path tmp = f.resolveSibling("." + f.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(tmp, text, StandardCharsets.UTF_8);
    Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }
}
