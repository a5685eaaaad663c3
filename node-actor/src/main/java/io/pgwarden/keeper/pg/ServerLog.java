package io.pgwarden.keeper.pg;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The server log ({@code <logDir>/postgresql.log}, written through pg_ctl -l): its last lines for errors. */
final class ServerLog {
  static final String FILE = "postgresql.log";

  private ServerLog() {}

  static Path of(LocalPg pg) {
    return pg.logDir().resolve(FILE);
  }

  /** The last {@code n} lines (reading at most the last 64 kB). */
  static List<String> tail(LocalPg pg, int n) {
    Path f = of(pg);
    if (!Files.exists(f)) return List.of();
    try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "r")) {
      long len = raf.length();
      int size = (int) Math.min(len, 64 * 1024);
      byte[] buf = new byte[size];
      raf.seek(len - size);
      raf.readFully(buf);
      List<String> lines = new ArrayList<>(Arrays.asList(new String(buf, StandardCharsets.UTF_8).split("\n")));
      if (size < len && !lines.isEmpty()) lines.remove(0);
      return List.copyOf(lines.subList(Math.max(0, lines.size() - n), lines.size()));
    } catch (IOException e) {
      return List.of("(could not read " + f + ": " + e.getMessage() + ")");
    }
  }
}
