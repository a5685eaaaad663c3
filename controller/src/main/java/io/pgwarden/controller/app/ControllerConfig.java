package io.pgwarden.controller.app;

import io.pgwarden.model.Timing;
import io.pgwarden.persistence.Json;
import io.pgwarden.persistence.JournalStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A controller's configuration, kept as {@code pgwarden.json} in its data directory (written by
 * {@code pgwarden create monitor}, read by {@code pgwarden run}).
 *
 * @param role always "controller" (a keeper's directory says "keeper")
 * @param listenHost address the API binds to
 * @param listenPort its port
 * @param journalUrl JDBC URL of the journal; empty for the embedded H2 file in the data directory
 * @param journalUser user for a PostgreSQL journal
 * @param journalPasswordFile file holding that user's password (never the password itself)
 * @param tlsKeystore PKCS#12 keystore for HTTPS; empty for plain HTTP
 * @param tlsPasswordFile file holding the keystore password
 * @param openMetrics serve /metrics without a token
 * @param timing the failover timeouts
 */
public record ControllerConfig(String role, String listenHost, int listenPort, String journalUrl, String journalUser,
    String journalPasswordFile, String tlsKeystore, String tlsPasswordFile, boolean openMetrics, Timing timing) {

  public static final String FILE = "pgwarden.json";
  /** Operator tokens, hashed; owner-only. */
  public static final String TOKENS_FILE = "tokens.json";
  /** The first operator token in clear, owner-only, for the local command line. */
  public static final String OPERATOR_TOKEN_FILE = "operator.token";

  public ControllerConfig {
    role = "controller";
    timing = timing == null ? Timing.DEFAULT : timing;
    if (listenPort < 0 || listenPort > 65535) throw new IllegalArgumentException("bad listen port " + listenPort);
  }

  public JournalStore journal(Path dir) {
    if (journalUrl == null || journalUrl.isBlank()) return JournalStore.h2File(dir.resolve("journal"));
    return new JournalStore(journalUrl, journalUser == null ? "" : journalUser, secret(journalPasswordFile));
  }

  static String secret(String file) {
    if (file == null || file.isBlank()) return "";
    try {
      return Files.readString(Path.of(file)).strip();
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the secret file " + file + ": " + e.getMessage());
    }
  }

  public void save(Path dir) {
    try {
      Files.createDirectories(dir);
      Files.writeString(dir.resolve(FILE), Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(this));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static ControllerConfig load(Path dir) {
    return Json.read(readConfig(dir), ControllerConfig.class);
  }

  /** The role a data directory's config names: "controller" or "keeper". */
  public static String roleOf(Path dir) {
    return Json.read(readConfig(dir), com.fasterxml.jackson.databind.JsonNode.class).path("role").asText("");
  }

  private static String readConfig(Path dir) {
    Path f = dir.resolve(FILE);
    if (!Files.isRegularFile(f)) {
      throw new IllegalStateException("no " + FILE + " in " + dir + ": create it with 'pgwarden create monitor' or"
          + " 'pgwarden create postgres'");
    }
    try {
      return Files.readString(f);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
