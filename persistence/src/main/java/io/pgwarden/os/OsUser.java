package io.pgwarden.os;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The operating-system user pgwarden runs as, and the one it runs PostgreSQL as when it is root. */
public final class OsUser {
  private static final long UID = readUid();

  private OsUser() {}

  public static boolean isRoot() {
    return UID == 0;
  }

  public static long uid() {
    return UID;
  }

  /** True when {@code user} exists in the passwd database. */
  public static boolean exists(String user) {
    return passwdEntry(user) != null;
  }

  static String primaryGroup(String user) {
    String[] entry = passwdEntry(user);
    return entry == null ? user : entry[3];
  }

  /**
   * The user PostgreSQL commands must run as: {@code configured} when running as root (PostgreSQL refuses
   * root), nobody otherwise.
   *
   * @throws IllegalStateException when running as root and the user does not exist, naming the fix
   */
  public static String pgUserFor(String configured) {
    if (!isRoot()) return null;
    String user = configured == null || configured.isBlank() ? "postgres" : configured;
    if (user.equals("root")) {
      throw new IllegalStateException("PostgreSQL refuses to run as root: pass --pg-user with a non-root user");
    }
    if (!exists(user)) {
      throw new IllegalStateException("pgwarden runs as root and must run PostgreSQL as user '" + user
          + "', which does not exist: create it (useradd --system " + user + ") or pass --pg-user");
    }
    return user;
  }

  /** Hands a path (and everything under it) to {@code user}; a no-op when not root. */
  public static void chown(Path path, String user) {
    if (user == null || !isRoot()) return;
    Command.Result r = Command.of("chown", List.of("chown", "-R", user + ":" + primaryGroup(user), path.toString()),
        java.time.Duration.ofSeconds(60)).run();
    if (!r.ok()) throw new IllegalStateException(r.describe());
  }

  private static String[] passwdEntry(String user) {
    try {
      for (String line : Files.readAllLines(Path.of("/etc/passwd"))) {
        String[] f = line.split(":");
        if (f.length > 3 && f[0].equals(user)) return f;
      }
    } catch (IOException e) {
      return null;
    }
    return null;
  }

  private static long readUid() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Uid:")) return Long.parseLong(line.substring(4).trim().split("\\s+")[1]);
      }
    } catch (IOException | RuntimeException e) {
      // fall through: not Linux
    }
    return "root".equals(System.getProperty("user.name")) ? 0 : 1000;
  }
}
