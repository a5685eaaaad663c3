package io.pgwarden.keeper.pg;

import io.pgwarden.os.Command;
import io.pgwarden.os.OsUser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Clones the local node from an upstream with pg_basebackup (WAL streamed, through the node's slot,
 * fast checkpoint), into a temporary directory beside PGDATA (same filesystem). Only a complete backup
 * is swapped in: PGDATA renamed aside, the clone renamed into place, the old one deleted. A clone that
 * fails, times out or is killed leaves PGDATA as it was (the local server keeps running during the copy
 * and is stopped only for the swap); leftovers of an interrupted run are cleaned up by the next one.
 * Afterwards the node's own configuration is rewritten and the standby setup points at the upstream.
 */
public final class BaseBackup {
  private static final Logger log = LoggerFactory.getLogger(BaseBackup.class);
  private static final Pattern PROGRESS = Pattern.compile("(\\d+)/(\\d+) kB \\((\\d+)%\\)");
  private static final Pattern RATE = Pattern.compile("\\d{1,7}[kM]?");
  static final String CLONE_MARK = ".pgwarden-clone-";
  static final String OLD_MARK = ".pgwarden-old-";

  /** pg_basebackup's own progress report. */
  public record Progress(long doneKb, long totalKb, int percent) {}

  public record Result(long totalKb, long elapsedMs) {}

  private final LocalPg pg;
  private final PgRunner run;
  private final PgCluster cluster;

  public BaseBackup(LocalPg pg) {
    this.pg = pg;
    this.run = new PgRunner(pg);
    this.cluster = new PgCluster(pg);
  }

  /**
   * @param slot the slot on the upstream to stream WAL through (null: a temporary slot)
   * @param maxRate pg_basebackup's --max-rate ("100M", "32k"); null for no limit
   * @param progress called (on the thread reading pg_basebackup's output) about once a second
   */
  public Result clone(StandbyConfig.Upstream upstream, String slot, String maxRate, Duration timeout,
      Consumer<Progress> progress) {
    long t0 = System.nanoTime();
    String step = "pg_basebackup";
    if (slot != null && LocalPg.nodeIdOf(slot) == null) {
      throw new PgOpException.Refused(pg.label(), step, PgOpException.Refused.Reason.BAD_INPUT,
          "pgwarden slot names are pgwarden_<nodeId>, got '" + slot + "'");
    }
    if (maxRate != null && !RATE.matcher(maxRate).matches()) {
      throw new PgOpException.Refused(pg.label(), step, PgOpException.Refused.Reason.BAD_INPUT,
          "max rate must look like 100M or 32k, got '" + maxRate + "'");
    }
    Path data = pg.pgdata();
    cleanupLeftovers();
    if (!PgFiles.isEmptyOrMissing(data) && !PgCluster.isCluster(data)) {
      throw new PgOpException.Refused(pg.label(), step, PgOpException.Refused.Reason.NOT_EMPTY,
          data + " is not empty and is not a PostgreSQL cluster; refusing to replace it");
    }
    Optional<String> savedHba = PgCluster.isCluster(data) ? PgFiles.read(pg.file(HbaConfig.FILE)) : Optional.empty();
    cluster.prepareDirs();
    Path tmp = data.resolveSibling("." + data.getFileName() + CLONE_MARK + System.nanoTime());
    long[] totalKb = {0};
    try {
      Files.createDirectory(tmp);
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwx------"));
      OsUser.chown(tmp, pg.pgUser());
      List<String> args = new ArrayList<>(List.of("-D", tmp.toString(),
          "-d", new StandbyConfig(pg).conninfo(upstream, false), "--wal-method=stream", "--checkpoint=fast",
          "--progress", "--verbose", "--no-password"));
      if (slot != null) args.add("--slot=" + slot);
      if (maxRate != null) args.add("--max-rate=" + maxRate);
      if (!pg.durable()) args.add("--no-sync");
      Command c = run.withPassword(run.command(step, timeout, "pg_basebackup", args.toArray(String[]::new)),
          pg.replicationPassword());
      log.info("{}: cloning from {}:{} (slot {}, max rate {})", pg.label(), upstream.host(), upstream.port(), slot,
          maxRate == null ? "unlimited" : maxRate);
      run.run(step, c, line -> {
        Matcher m = PROGRESS.matcher(line);
        if (m.find()) {
          totalKb[0] = Long.parseLong(m.group(2));
          if (progress != null) {
            try {
              progress.accept(new Progress(Long.parseLong(m.group(1)), totalKb[0], Integer.parseInt(m.group(3))));
            } catch (RuntimeException e) {
              // the callback runs on the output reader: it must not stop the reading
              log.warn("{}: clone progress callback failed: {}", pg.label(), e.toString());
            }
          }
        }
      });
      if (!PgCluster.isCluster(tmp)) {
        throw new PgOpException.Refused(pg.label(), step, PgOpException.Refused.Reason.NOT_A_CLUSTER,
            "pg_basebackup succeeded but " + tmp + " holds no cluster");
      }
      cluster.stop(PgCluster.StopMode.FAST);
      swapIn(tmp);
    } catch (IOException e) {
      throw new UncheckedIOException("clone into " + tmp + " failed: " + e.getMessage(), e);
    } finally {
      PgFiles.deleteTree(tmp);
    }
    new NodeConfig(pg).afterCopy(savedHba);
    new StandbyConfig(pg).write(upstream, slot);
    long ms = (System.nanoTime() - t0) / 1_000_000;
    log.info("{}: cloned {} kB from {}:{} in {} ms", pg.label(), totalKb[0], upstream.host(), upstream.port(), ms);
    return new Result(totalKb[0], ms);
  }

  /** PGDATA aside, the clone in, the old one deleted. */
  private void swapIn(Path clone) throws IOException {
    Path data = pg.pgdata();
    Path old = data.resolveSibling("." + data.getFileName() + OLD_MARK + System.nanoTime());
    if (Files.exists(data)) Files.move(data, old, StandardCopyOption.ATOMIC_MOVE);
    Files.move(clone, data, StandardCopyOption.ATOMIC_MOVE);
    PgFiles.deleteTree(old);
  }

  /**
   * Undoes what an interrupted clone left: when PGDATA went aside but the swap did not finish, the old
   * PGDATA is put back; every temporary clone and old copy is deleted.
   */
  public void cleanupLeftovers() {
    Path data = pg.pgdata();
    Path parent = data.getParent();
    String base = "." + data.getFileName();
    List<Path> clones = new ArrayList<>();
    List<Path> olds = new ArrayList<>();
    try (Stream<Path> s = Files.exists(parent) ? Files.list(parent) : Stream.empty()) {
      s.forEach(p -> {
        String n = p.getFileName().toString();
        if (n.startsWith(base + CLONE_MARK)) clones.add(p);
        if (n.startsWith(base + OLD_MARK)) olds.add(p);
      });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    olds.sort(null);
    try {
      if (!Files.exists(data) && !olds.isEmpty()) {
        Path newest = olds.remove(olds.size() - 1);
        log.warn("{}: an interrupted clone left PGDATA aside; putting {} back", pg.label(), newest);
        Files.move(newest, data, StandardCopyOption.ATOMIC_MOVE);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    for (Path p : clones) {
      log.info("{}: deleting an interrupted clone's directory {}", pg.label(), p);
      PgFiles.deleteTree(p);
    }
    olds.forEach(PgFiles::deleteTree);
  }
}
