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
    subcommands = {CreateCommands.Monitor.class, CreateCommands.Formation.class, CreateCommands.Postgres.class})
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

  @Command(name = "postgres", description = {
      "Register a PostgreSQL node with the controller and write its keeper's configuration in --dir.",
      "Checks first and changes nothing on bad input. The keeper (pgwarden run --dir, or --run) then makes",
      "PostgreSQL: initdb for the formation's first node, a clone of the primary for the others."})
  static final class Postgres implements Callable<Integer> {
    @Option(names = "--pgdata", required = true, description = "PostgreSQL's data directory: empty, missing, or a"
        + " cluster of this formation that nothing else runs")
    Path pgdata;

    @Option(names = "--pgport", required = true, description = "PostgreSQL's port")
    int pgport;

    @Option(names = "--hostname", required = true, description = "the name or address the controller and the other"
        + " nodes reach this PostgreSQL at")
    String hostname;

    @Option(names = "--name", required = true, description = "the node's name in the formation")
    String name;

    @Option(names = "--formation", defaultValue = "default", description = "the formation (default: ${DEFAULT-VALUE})")
    String formation;

    @Option(names = "--monitor", description = "controller URL (env PGWARDEN_MONITOR)")
    String monitor;

    @Option(names = "--token", description = "operator token, needed to register (env PGWARDEN_TOKEN)")
    String token;

    @Option(names = "--token-file", description = "file holding the operator token")
    Path tokenFile;

    @Option(names = "--candidate-priority", description = "0-100 (0: never promoted); default 50")
    Integer candidatePriority;

    @Option(names = "--replication-quorum", arity = "1", description = "true|false: may count as a synchronous"
        + " standby; default true")
    Boolean replicationQuorum;

    @Option(names = "--pg-user", defaultValue = "postgres", description = "the OS user PostgreSQL runs as when"
        + " pgwarden runs as root (default: ${DEFAULT-VALUE})")
    String pgUser;

    @Option(names = "--listen", description = "PostgreSQL's listen_addresses (default: --hostname when it is an"
        + " address, else *)")
    String listen;

    @Option(names = "--keeper-listen", description = "HOST:PORT the keeper API binds (default: 127.0.0.1:<pgport+3000>)")
    String keeperListen;

    @Option(names = "--pg-setting", description = "NAME=VALUE written into pgwarden.conf (repeatable)")
    java.util.List<String> pgSettings = new java.util.ArrayList<>();

    @Option(names = "--dir", description = "the keeper's directory (default: 'pgwarden' beside PGDATA)")
    Path dir;

    @Option(names = "--no-fsync", hidden = true, description = "tests only: fsync off, --no-sync for initdb and copies")
    boolean noFsync;

    @Option(names = "--run", description = "run the keeper right away")
    boolean run;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      String url = monitor != null ? monitor : System.getenv("PGWARDEN_MONITOR");
      String tok = token != null ? token : System.getenv("PGWARDEN_TOKEN");
      if (tok == null && tokenFile != null) {
        try {
          tok = Files.readString(tokenFile).strip();
        } catch (java.io.IOException e) {
          throw new Pgwarden.UserError("cannot read " + tokenFile + ": " + e.getMessage(),
              "check the file's path and permissions");
        }
      }
      if (url == null) throw new Pgwarden.UserError("no controller given", "pass --monitor URL or set PGWARDEN_MONITOR",
          Pgwarden.USAGE);
      java.util.Map<String, String> settings = new java.util.TreeMap<>();
      for (String kv : pgSettings) {
        int eq = kv.indexOf('=');
        if (eq <= 0) throw new Pgwarden.UserError("bad --pg-setting '" + kv + "'", "write it as NAME=VALUE",
            Pgwarden.USAGE);
        settings.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
      }
      Path keeperDir = dir != null ? dir : io.pgwarden.keeper.app.KeeperCreate.defaultDir(pgdata);
      String kl = keeperListen != null ? keeperListen
          : "127.0.0.1:" + io.pgwarden.keeper.app.KeeperCreate.defaultKeeperPort(pgport);
      var req = new io.pgwarden.keeper.app.KeeperCreate.Request(keeperDir, formation, name, pgdata, pgport, hostname,
          listen, pgUser, kl, candidatePriority, replicationQuorum, !noFsync, settings);
      io.pgwarden.keeper.app.KeeperFileConfig cfg;
      try {
        cfg = io.pgwarden.keeper.app.KeeperCreate.create(req, new ApiClient(java.net.URI.create(url), tok));
      } catch (io.pgwarden.keeper.app.KeeperCreate.Refused e) {
        throw new Pgwarden.UserError(e.getMessage(), e.hint(), e.exitCode());
      }
      var out = spec.commandLine().getOut();
      out.println("node " + cfg.nodeId() + " (" + cfg.name() + ") registered in formation " + cfg.formation()
          + " at " + cfg.hostname() + ":" + cfg.pgport());
      out.println("keeper configuration written to " + keeperDir.toAbsolutePath().normalize() + " (keeper API "
          + cfg.keeperApiUrl() + ")");
      if (loopback(cfg.keeperHost()) && !loopback(hostname)) {
        out.println("warning: the keeper API listens on " + cfg.keeperListen() + " only: keepers on other hosts cannot"
            + " reach it, so this node's failsafe cannot work; pass --keeper-listen ADDRESS:PORT reachable by the"
            + " other nodes");
      }
      if (!run) {
        out.println("run it with: pgwarden run --dir " + keeperDir.toAbsolutePath().normalize());
        out.flush();
        return Pgwarden.OK;
      }
      out.flush();
      return KeeperLauncher.run(keeperDir, out);
    }
  }

  static boolean loopback(String host) {
    return host.equals("localhost") || host.startsWith("127.") || host.equals("::1");
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
