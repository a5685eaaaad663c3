package io.pgwarden.cli;

import io.pgwarden.api.Dto;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code pgwarden perform failover|switchover|promotion}. */
@Command(name = "perform", description = "Fail over, switch over, or promote a named node.",
    subcommands = {PerformCommands.Failover.class, PerformCommands.Switchover.class, PerformCommands.Promotion.class})
final class PerformCommands {
  @Command(name = "failover", description = "Promote the best standby; the primary becomes a standby.")
  static final class Failover extends Actions {
    Dto.OperatorRequest request(String key) {
      return req("failover", null, null, null, null, key);
    }
  }

  @Command(name = "switchover", description = "Same as failover: a planned change of primary.")
  static final class Switchover extends Actions {
    Dto.OperatorRequest request(String key) {
      return req("switchover", null, null, null, null, key);
    }
  }

  @Command(name = "promotion", description = "Promote the node given with --name.")
  static final class Promotion extends Actions {
    @Option(names = "--name", required = true, description = "the node to promote")
    String name;

    Dto.OperatorRequest request(String key) {
      return req("promotion", name, null, null, null, key);
    }
  }
}
