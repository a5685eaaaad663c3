package io.pgwarden.cli;

import io.pgwarden.api.Dto;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code pgwarden enable maintenance}. */
@Command(name = "enable", description = "Enable maintenance on a node.", subcommands = EnableCommands.Maintenance.class)
final class EnableCommands {
  @Command(name = "maintenance", description = "Put a node in maintenance; a primary needs --allow-failover.")
  static final class Maintenance extends Actions {
    @Option(names = "--name", required = true, description = "the node")
    String name;

    @Option(names = "--allow-failover", description = "allowed to fail over when the node is the primary")
    boolean allowFailover;

    Dto.OperatorRequest request(String key) {
      return req("maintenance-on", name, allowFailover, null, null, key);
    }
  }
}
