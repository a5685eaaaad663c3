package io.pgwarden.keeper.pg;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * File helpers for files pgwarden writes into directories PostgreSQL owns: written to a temporary
 * sibling, given the owner and group of the directory they go into (pgwarden may be root), then renamed
 * into place so that PostgreSQL never reads half a file.
 */
final class PgFiles {
  private PgFiles() {}

  static void write(Path file, String content) {
    Path dir = file.getParent();
    Path tmp = dir.resolve("." + file.getFileName() + ".pgwarden-tmp");
    try {
      Files.writeString(tmp, content, StandardCharsets.UTF_8);
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
      copyOwner(dir, tmp);
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException ignored) {
        // the write failed already; that is the error to report
      }
      throw new UncheckedIOException("could not write " + file + ": " + e.getMessage(), e);
    }
  }

  static Optional<String> read(Path file) {
    try {
      return Files.exists(file) ? Optional.of(Files.readString(file, StandardCharsets.UTF_8)) : Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException("could not read " + file + ": " + e.getMessage(), e);
    }
  }

  static boolean delete(Path file) {
    try {
      return Files.deleteIfExists(file);
    } catch (IOException e) {
      throw new UncheckedIOException("could not delete " + file + ": " + e.getMessage(), e);
    }
  }

  /** Creates {@code dir} (mode 0700) owned like {@code ownerOf}, when missing. */
  static void ensureDir(Path dir, Path ownerOf) {
    try {
      if (!Files.isDirectory(dir)) {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
      }
      copyOwner(ownerOf, dir);
    } catch (IOException e) {
      throw new UncheckedIOException("could not create " + dir + ": " + e.getMessage(), e);
    }
  }

  /** Gives {@code target} the uid and gid of {@code template} (only effective when running as root). */
  static void copyOwner(Path template, Path target) throws IOException {
    Object uid = Files.getAttribute(template, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    Object gid = Files.getAttribute(template, "unix:gid", LinkOption.NOFOLLOW_LINKS);
    if (!uid.equals(Files.getAttribute(target, "unix:uid", LinkOption.NOFOLLOW_LINKS))) {
      Files.setAttribute(target, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
    }
    if (!gid.equals(Files.getAttribute(target, "unix:gid", LinkOption.NOFOLLOW_LINKS))) {
      Files.setAttribute(target, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
    }
  }

  static boolean isEmptyOrMissing(Path dir) {
    if (!Files.exists(dir)) return true;
    if (!Files.isDirectory(dir)) return false;
    try (Stream<Path> s = Files.list(dir)) {
      return s.findAny().isEmpty();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void deleteTree(Path root) {
    if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) return;
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) Files.deleteIfExists(p);
    } catch (IOException e) {
      throw new UncheckedIOException("could not delete " + root + ": " + e.getMessage(), e);
    }
  }

  /** A value for postgresql.conf, single-quoted. */
  static String quoteConf(String value) {
    if (value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0) {
      throw new IllegalArgumentException("configuration value contains a line break");
    }
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'";
  }

  /** A value inside a libpq connection string. */
  static String quoteConninfo(String value) {
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'";
  }
}
