package io.pgwarden.os;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Where PostgreSQL's server programs are: {@code PGWARDEN_PG_BIN} if set, else the newest
 * /usr/lib/postgresql/N/bin (Debian's layout), else the directory of pg_ctl on the PATH.
 */
public record PgBinaries(Path dir) {

  public static PgBinaries locate() {
    String env = System.getenv("PGWARDEN_PG_BIN");
    if (env != null && !env.isBlank()) return checked(Path.of(env));
    Path debian = Path.of("/usr/lib/postgresql");
    if (Files.isDirectory(debian)) {
      try (Stream<Path> s = Files.list(debian)) {
        var best = s.filter(p -> Files.isExecutable(p.resolve("bin/pg_ctl")))
            .max(Comparator.comparingInt(PgBinaries::majorOf));
        if (best.isPresent()) return new PgBinaries(best.get().resolve("bin"));
      } catch (IOException ignored) {
        // fall through to PATH
      }
    }
    for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
      Path p = Path.of(d, "pg_ctl");
      if (!d.isEmpty() && Files.isExecutable(p)) {
        try {
          return new PgBinaries(p.toRealPath().getParent());
        } catch (IOException e) {
          return new PgBinaries(Path.of(d));
        }
      }
    }
    throw new IllegalStateException("PostgreSQL server programs not found: install Debian's 'postgresql' package"
        + " (apt-get install -y postgresql) or set PGWARDEN_PG_BIN to the directory holding pg_ctl");
  }

  private static PgBinaries checked(Path dir) {
    if (!Files.isExecutable(dir.resolve("pg_ctl"))) {
      throw new IllegalStateException("PGWARDEN_PG_BIN=" + dir + " holds no pg_ctl: point it at PostgreSQL's bin directory");
    }
    return new PgBinaries(dir);
  }

  private static int majorOf(Path p) {
    try {
      return Integer.parseInt(p.getFileName().toString());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  public String bin(String program) {
    return dir.resolve(program).toString();
  }

  public List<String> argv(String program, String... args) {
    var l = new java.util.ArrayList<String>();
    l.add(bin(program));
    l.addAll(List.of(args));
    return l;
  }
}
