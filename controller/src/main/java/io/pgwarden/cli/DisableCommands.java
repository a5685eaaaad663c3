package io.pgwarden.cli;

import io.pgwarden.api.Dto;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code pgwarden disable maintenance}. */
@Command(name = "disable", description = "Disable maintenance on a node.",
    subcommands = DisableCommands.Maintenance.class)
final class DisableCommands {
  @Command(name = "maintenance", description = "Take a node out of maintenance: it rejoins as a standby.")
  static final class Maintenance extends Actions {
    @Option(names = "--name", required = true, description = "the node")
    String name;

    Dto.OperatorRequest request(String key) {
      return req("maintenance-off", name, null, null, null, key);
    }
  }
}
