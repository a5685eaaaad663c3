package io.pgwarden.cli;

import io.pgwarden.api.TokenStore;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code pgwarden token create}: another operator token, stored hashed in the controller's directory. */
@Command(name = "token", description = "Manage operator tokens.", subcommands = TokenCommands.Create.class)
final class TokenCommands {
  @Command(name = "create", description = "Create an operator token; it is printed once, stored only as a hash.")
  static final class Create implements Callable<Integer> {
    @Option(names = "--dir", required = true, description = "the controller's data directory")
    Path dir;

    @Option(names = "--name", required = true, description = "who the token is for (recorded with every action)")
    String name;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      String token = TokenStore.create(dir.resolve(CreateCommands.TOKENS_FILE), name);
      spec.commandLine().getOut().println(token);
      return Pgwarden.OK;
    }
  }
}
