package io.pgwarden.cli;

import io.pgwarden.api.ApiClient;
import io.pgwarden.api.Dto;
import io.pgwarden.api.TokenStore;
import io.pgwarden.controller.app.ControllerConfig;
import io.pgwarden.model.Timing;
import io.pgwarden.os.Dirs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code pgwarden create monitor|formation|postgres}. */
@Command(name = "create", description = "Create a controller, a formation, or a PostgreSQL node.",
    subcommands = {CreateCommands.Monitor.class, CreateCommands.Formation.class})
final class CreateCommands {
  static final String OPERATOR_TOKEN_FILE = ControllerConfig.OPERATOR_TOKEN_FILE;
  static final String TOKENS_FILE = ControllerConfig.TOKENS_FILE;

  @Command(name = "monitor", description = "Create a controller in --dir: config, operator token, journal schema.")
  static final class Monitor implements Callable<Integer> {
    @Option(names = "--dir", required = true, description = "the controller's data directory")
    Path dir;

    @Option(names = "--listen", defaultValue = "127.0.0.1:7000", description = "API address (default: ${DEFAULT-VALUE})")
    String listen;

    @Option(names = "--journal-url", description = "PostgreSQL journal (jdbc:postgresql://...); default: H2 in --dir")
    String journalUrl;

    @Option(names = "--journal-user", description = "user of the PostgreSQL journal")
    String journalUser;

    @Option(names = "--journal-password-file", description = "file holding that user's password")
    String journalPasswordFile;

    @Option(names = "--tls-keystore", description = "PKCS#12 keystore: serve HTTPS")
    String tlsKeystore;

    @Option(names = "--tls-password-file", description = "file holding the keystore password")
    String tlsPasswordFile;

    @Option(names = "--open-metrics", description = "serve /metrics without a token")
    boolean openMetrics;

    @Option(names = "--run", description = "run the controller right away")
    boolean run;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      if (Files.exists(dir.resolve(ControllerConfig.FILE))) {
        throw new Pgwarden.UserError(dir + " already holds a pgwarden configuration",
            "use 'pgwarden run --dir " + dir + "', or choose another --dir");
      }
      HostPort hp = HostPort.parse(listen);
      ControllerConfig cfg = new ControllerConfig("controller", hp.host(), hp.port(), journalUrl, journalUser,
          journalPasswordFile, tlsKeystore, tlsPasswordFile, openMetrics, Timing.DEFAULT);
      cfg.journal(dir).createSchema();
      cfg.save(dir);
      String token = TokenStore.create(dir.resolve(TOKENS_FILE), "admin");
      Dirs.writeSecret(dir.resolve(OPERATOR_TOKEN_FILE), token + "\n");
      var out = spec.commandLine().getOut();
      out.println("controller created in " + dir);
      out.println("operator token 'admin' (shown once; also saved owner-only in " + dir.resolve(OPERATOR_TOKEN_FILE)
          + "):");
      out.println(token);
      out.flush();
      if (run) return RunCommand.runController(dir, out);
      return Pgwarden.OK;
    }
  }

  @Command(name = "formation", description = "Create a formation on a running controller.")
  static final class Formation implements Callable<Integer> {
    @Mixin
    Pgwarden.Connection conn;

    @Option(names = "--formation", required = true, description = "its name")
    String name;

    @Option(names = "--dbname", defaultValue = "postgres", description = "the application database")
    String dbname;

    @Option(names = "--number-sync-standbys", defaultValue = "0")
    int nss;

    @Option(names = "--reason", defaultValue = "")
    String reason;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      ApiClient c = conn.client();
      Dto.FormationSummary s = c.createFormation(new Dto.CreateFormation(name, dbname, nss, null, reason));
      spec.commandLine().getOut().println("formation " + s.name() + " created (dbname " + s.settings().dbname() + ")");
      return Pgwarden.OK;
    }
  }

  record HostPort(String host, int port) {
    static HostPort parse(String s) {
      int i = s.lastIndexOf(':');
      if (i <= 0) throw new Pgwarden.UserError("bad address '" + s + "'", "write it as HOST:PORT, e.g. 127.0.0.1:7000");
      try {
        int port = Integer.parseInt(s.substring(i + 1));
        if (port < 0 || port > 65535) throw new NumberFormatException();
        return new HostPort(s.substring(0, i), port);
      } catch (NumberFormatException e) {
        throw new Pgwarden.UserError("bad port in '" + s + "'", "a port is a number from 0 to 65535");
      }
    }
  }
}
