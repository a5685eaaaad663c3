package io.pgwarden.keeper.pg;

import io.pgwarden.os.Command;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs PostgreSQL's programs for one node: as the PostgreSQL OS user, with a timeout, secrets masked,
 * and a log line a person can act on when one fails.
 */
final class PgRunner {
  private static final Logger log = LoggerFactory.getLogger(PgRunner.class);
  private final LocalPg pg;

  PgRunner(LocalPg pg) {
    this.pg = pg;
  }

  /** The command for {@code program args...}, not yet run. */
  Command command(String step, Duration timeout, String program, String... args) {
    List<String> secrets = new ArrayList<>();
    if (pg.replicationPassword() != null) secrets.add(pg.replicationPassword());
    if (pg.superuserPassword() != null) secrets.add(pg.superuserPassword());
    Command c = Command.of(step, pg.bin().argv(program, args), timeout).runningAs(pg.pgUser()).withSecrets(secrets);
    // Started from a directory every user can read: PostgreSQL's programs resolve their working directory.
    return c.inDirectory(java.nio.file.Path.of("/"));
  }

  /** Runs and throws {@link PgOpException.CommandFailed} unless it exited 0 in time. */
  Command.Result run(String step, Command c) {
    return run(step, c, line -> {});
  }

  Command.Result run(String step, Command c, Consumer<String> onLine) {
    Command.Result r = tryRun(step, c, onLine);
    if (!r.ok()) throw new PgOpException.CommandFailed(pg.label(), step, r);
    return r;
  }

  /** Runs and returns the result whatever it is; logs a failure at WARN. */
  Command.Result tryRun(String step, Command c, Consumer<String> onLine) {
    Command.Result r = c.run(onLine);
    if (r.ok()) {
      log.debug("{}: {} ok in {} ms: {}", pg.label(), step, r.elapsedMs(), r.command());
    } else {
      log.warn("{}: {} failed: {}", pg.label(), step, r.describe());
    }
    return r;
  }

  Command.Result run(String step, Duration timeout, String program, String... args) {
    return run(step, command(step, timeout, program, args));
  }

  Command withPassword(Command c, String password) {
    return password == null ? c : c.withEnv(Map.of("PGPASSWORD", password));
  }
}
