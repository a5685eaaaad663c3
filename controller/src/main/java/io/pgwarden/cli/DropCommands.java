package io.pgwarden.cli;

import io.pgwarden.api.Dto;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code pgwarden drop node}. */
@Command(name = "drop", description = "Remove a node from its formation.", subcommands = DropCommands.Node.class)
final class DropCommands {
  @Command(name = "node", description = "Drop a node; --force removes it at once, even unreachable.")
  static final class Node extends Actions {
    @Option(names = "--name", required = true, description = "the node")
    String name;

    @Option(names = "--force", description = "remove at once, without waiting for its keeper")
    boolean force;

    @Option(names = "--destroy", description = "with a keeper's --pgdata: also delete the local data directory")
    java.nio.file.Path destroy;

    Dto.OperatorRequest request(String key) {
      return req("drop-node", name, null, force, null, key);
    }

    @Override
    public Integer call() throws Exception {
      int rc = super.call();
      if (rc == Pgwarden.OK && destroy != null) {
        io.pgwarden.os.Dirs.deleteTree(destroy);
        spec.commandLine().getOut().println("deleted " + destroy);
      }
      return rc;
    }
  }
}
