package io.pgwarden.cli;

import io.pgwarden.api.Dto;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code pgwarden set formation ...} and {@code pgwarden set node ...}. */
@Command(name = "set", description = "Change formation or node replication settings.",
    subcommands = {SetCommands.Formation.class, SetCommands.Node.class})
final class SetCommands {

  @Command(name = "formation", description = "Formation settings.",
      subcommands = {NumberSyncStandbys.class, DataLossAllowed.class})
  static final class Formation {}

  @Command(name = "number-sync-standbys", description = "How many quorum standbys a commit waits for.")
  static final class NumberSyncStandbys extends Actions {
    @Parameters(index = "0", description = "0 or more")
    long value;

    Dto.OperatorRequest request(String key) {
      return req("set-number-sync-standbys", null, null, null, value, key);
    }
  }

  @Command(name = "failover-data-loss-allowed",
      description = "Bytes of acknowledged WAL an automatic failover from wait_primary may lose (0: never).")
  static final class DataLossAllowed extends Actions {
    @Parameters(index = "0", description = "bytes")
    long value;

    Dto.OperatorRequest request(String key) {
      return req("set-failover-data-loss-allowed", null, null, null, value, key);
    }
  }

  @Command(name = "node", description = "Node settings.", subcommands = {CandidatePriority.class, ReplicationQuorum.class})
  static final class Node {}

  @Command(name = "candidate-priority", description = "0 (never promoted) to 100.")
  static final class CandidatePriority extends Actions {
    @Option(names = "--name", required = true, description = "the node")
    String name;

    @Parameters(index = "0", description = "0..100")
    long value;

    Dto.OperatorRequest request(String key) {
      return req("set-candidate-priority", name, null, null, value, key);
    }
  }

  @Command(name = "replication-quorum", description = "Whether the node counts in the synchronous quorum.")
  static final class ReplicationQuorum extends Actions {
    @Option(names = "--name", required = true, description = "the node")
    String name;

    @Parameters(index = "0", description = "true or false")
    boolean value;

    Dto.OperatorRequest request(String key) {
      return req("set-replication-quorum", name, null, null, value ? 1L : 0L, key);
    }
  }
}
