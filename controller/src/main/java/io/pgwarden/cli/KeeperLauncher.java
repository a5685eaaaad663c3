package io.pgwarden.cli;

import java.io.PrintWriter;
import java.nio.file.Path;

/** Runs a keeper from its data directory. */
final class KeeperLauncher {
  private KeeperLauncher() {}

  static int run(Path dir, PrintWriter out) {
    throw new Pgwarden.UserError("the keeper cannot run from this build yet",
        "run a controller with 'pgwarden run --dir <controller dir>'");
  }
}
