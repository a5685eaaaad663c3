package io.pgwarden.cli;

import io.pgwarden.keeper.app.KeeperApp;
import java.io.PrintWriter;
import java.nio.file.Path;

/** Runs a keeper from its directory until SIGINT/SIGTERM (exit 0) or until its node is dropped (exit 4). */
final class KeeperLauncher {
  private KeeperLauncher() {}

  static int run(Path dir, PrintWriter out) {
    KeeperApp app;
    try {
      app = KeeperApp.start(dir);
    } catch (IllegalStateException | IllegalArgumentException | java.io.UncheckedIOException e) {
      throw new Pgwarden.UserError(e.getMessage(), "fix the cause above, then run 'pgwarden run --dir " + dir + "' again");
    }
    var c = app.config();
    out.println("keeper of node " + c.nodeId() + " (" + c.name() + ", formation " + c.formation() + ") running:"
        + " PostgreSQL " + c.pgdata() + " on port " + c.pgport() + ", keeper API " + c.keeperApiUrl()
        + " (Ctrl-C stops it and its PostgreSQL)");
    out.flush();
    Thread hook = new Thread(app::close, "pgwarden-keeper-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    int code = app.exit().join();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // the hook is what ended the keeper
    }
    if (code == KeeperApp.EXIT_DROPPED) {
      out.println("node " + c.nodeId() + " was dropped from formation " + c.formation() + ": the keeper stopped for"
          + " good");
      out.flush();
    }
    return code;
  }
}
