package io.pgwarden.keeper.pg;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;

/**
 * PGDATA's postmaster.pid and what it says about a running server. A postmaster counts as alive only
 * if its process exists, is not a zombie (a SIGKILLed postmaster stays a zombie until init reaps it,
 * which can take seconds) and is a PostgreSQL process; a lock file is stale only once no process is
 * attached to the shared-memory segment it names (the check PostgreSQL itself makes).
 */
final class PostmasterLock {
  private final Path pidFile;
  private final Path socketLock;

  PostmasterLock(LocalPg pg) {
    this.pidFile = pg.pgdata().resolve("postmaster.pid");
    this.socketLock = pg.socketDir().resolve(".s.PGSQL." + pg.port() + ".lock");
  }

  /** The PID in the lock file, if the file exists and is readable. */
  OptionalLong pid() {
    List<String> lines = lines();
    if (lines.isEmpty()) return OptionalLong.empty();
    try {
      return OptionalLong.of(Long.parseLong(lines.get(0).trim()));
    } catch (NumberFormatException e) {
      return OptionalLong.empty();
    }
  }

  /** Line 8: "starting", "stopping", "ready" or "standby" (empty when not written yet). */
  String status() {
    List<String> lines = lines();
    return lines.size() > 7 ? lines.get(7).trim() : "";
  }

  boolean exists() {
    return Files.exists(pidFile);
  }

  /** The postmaster named by the lock file is alive. */
  boolean postmasterAlive() {
    OptionalLong pid = pid();
    return pid.isPresent() && isLivePostgres(pid.getAsLong());
  }

  /** No live postmaster and no process attached to its shared memory: the file can go. */
  boolean stale() {
    if (!exists()) return false;
    if (postmasterAlive()) return false;
    return !sharedMemoryInUse();
  }

  /**
   * Deletes the lock file if (and only if) it is stale, and with it the socket's lock file when that names
   * a dead process too (PostgreSQL would refuse to start while a zombie holds either). Returns true when it
   * deleted postmaster.pid.
   */
  boolean removeIfStale() {
    if (!stale()) return false;
    removeStaleSocketLock();
    return PgFiles.delete(pidFile);
  }

  /** The socket directory's lock file, when the process it names is gone (or a zombie). */
  void removeStaleSocketLock() {
    try {
      if (!Files.exists(socketLock)) return;
      List<String> l = Files.readAllLines(socketLock);
      if (!l.isEmpty() && !isLivePostgres(Long.parseLong(l.get(0).trim()))) PgFiles.delete(socketLock);
    } catch (IOException | NumberFormatException e) {
      // unreadable: leave it to PostgreSQL, whose error message names the file
    }
  }

  boolean sharedMemoryInUse() {
    List<String> lines = lines();
    if (lines.size() < 7) return false;
    String[] f = lines.get(6).trim().split("\\s+");
    if (f.length < 2) return false;
    String shmid = f[1];
    try {
      for (String row : Files.readAllLines(Path.of("/proc/sysvipc/shm"))) {
        String[] c = row.trim().split("\\s+");
        if (c.length > 6 && c[1].equals(shmid)) return Long.parseLong(c[6]) > 0;
      }
    } catch (IOException | NumberFormatException e) {
      return false;
    }
    return false;
  }

  static boolean isLivePostgres(long pid) {
    Path proc = Path.of("/proc", Long.toString(pid));
    try {
      String stat = Files.readString(proc.resolve("stat"));
      int close = stat.lastIndexOf(')');
      char state = stat.charAt(close + 2);
      if (state == 'Z' || state == 'X' || state == 'x') return false;
      String comm = Files.readString(proc.resolve("comm")).trim();
      return comm.startsWith("postgres") || comm.startsWith("postmaster");
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  private List<String> lines() {
    try {
      return Files.exists(pidFile) ? Files.readAllLines(pidFile) : List.of();
    } catch (IOException e) {
      return List.of();
    }
  }
}
