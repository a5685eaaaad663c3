package io.pgwarden.cli;

import io.pgwarden.api.ApiClient;
import io.pgwarden.api.ApiException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code pgwarden} command line. Every command that talks to a running controller goes through the
 * HTTP API; errors print one line of cause and one line of what to do, and exit non-zero.
 */
@Command(name = "pgwarden", mixinStandardHelpOptions = true, scope = CommandLine.ScopeType.INHERIT,
    versionProvider = Pgwarden.Version.class,
    description = "PostgreSQL failover controller: a controller (monitor) and one keeper per PostgreSQL node.",
    subcommands = {
        CreateCommands.class, RunCommand.class, ShowCommands.class, PerformCommands.class,
        EnableCommands.class, DisableCommands.class, SetCommands.class, DropCommands.class,
        TokenCommands.class, AuditCommand.class, DemoCommand.class, CdsTrainingCommand.class, CommandLine.HelpCommand.class})
public final class Pgwarden implements Callable<Integer> {
  /** Exit codes: 0 ok, 1 refused or failed, 2 bad usage, 3 cannot reach the controller. */
  public static final int OK = 0;
  public static final int FAILED = 1;
  public static final int USAGE = 2;
  public static final int UNREACHABLE = 3;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    commonPoolOfAtLeast(4);
    System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  /**
   * On a machine with 2 cores the JDK's common pool has parallelism 1, and then CompletableFuture's
   * default executor (which the JDK HTTP client and Scala's futures use for every completion) starts a
   * new thread per task. Set before anything touches the pool.
   */
  static void commonPoolOfAtLeast(int n) {
    String key = "java.util.concurrent.ForkJoinPool.common.parallelism";
    if (System.getProperty(key) == null && Runtime.getRuntime().availableProcessors() - 1 < n) {
      System.setProperty(key, String.valueOf(n));
    }
  }

  /** Runs the command line with the given streams; returns the exit code (tests call this). */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine cl = new CommandLine(new Pgwarden());
    cl.setOut(out);
    cl.setErr(err);
    cl.setParameterExceptionHandler((ex, args2) -> {
      CommandLine cmd = ex.getCommandLine();
      String name = cmd.getCommandSpec().qualifiedName(" ");
      cmd.getErr().println("error: " + ex.getMessage());
      cmd.getErr().println("hint: see '" + name + " --help'"
          + (cmd.getSubcommands().isEmpty() ? "" : " for its commands"));
      cmd.getErr().flush();
      return USAGE;
    });
    cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
      Failure f = Failure.of(ex);
      cmd.getErr().println("error: " + f.cause());
      cmd.getErr().println("hint: " + f.hint());
      cmd.getErr().flush();
      return f.exitCode();
    });
    return cl.execute(args);
  }

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getOut());
    return USAGE;
  }

  /** A failure as the user sees it: the cause, what to do about it, the exit code. */
  record Failure(String cause, String hint, int exitCode) {
    static Failure of(Throwable ex) {
      if (ex instanceof ApiException a) {
        if (a.code().equals("unreachable") || a.status() == 0) {
          return new Failure(a.getMessage(), "check that the controller runs and that --monitor points at it",
              UNREACHABLE);
        }
        String hint = switch (a.status()) {
          case 401 -> "pass an operator token with --token, PGWARDEN_TOKEN or --token-file";
          case 403 -> "this credential may not do that: use an operator token";
          case 404 -> "check the --formation and --name given (pgwarden show state lists the nodes)";
          case 400 -> "check the values given (pgwarden help <command>)";
          case 409 -> "the formation's current state does not allow it: check 'pgwarden show state', then retry"
              + " or change the request";
          default -> "see the controller's log for details";
        };
        return new Failure(a.getMessage() + " (" + a.code() + ", HTTP " + a.status() + ")", hint, FAILED);
      }
      if (ex instanceof UserError u) return new Failure(u.getMessage(), u.hint(), u.exitCode());
      if (ex instanceof IllegalArgumentException || ex instanceof IllegalStateException) {
        return new Failure(ex.getMessage(), "check the options given (pgwarden help <command>)", FAILED);
      }
      return new Failure(String.valueOf(ex), "this is a bug in pgwarden: please report it with the log", FAILED);
    }
  }

  /** An error the user can fix, with the fix. */
  public static final class UserError extends RuntimeException {
    private final String hint;
    private final int exitCode;

    public UserError(String cause, String hint) {
      this(cause, hint, FAILED);
    }

    public UserError(String cause, String hint, int exitCode) {
      super(cause);
      this.hint = hint;
      this.exitCode = exitCode;
    }

    public String hint() {
      return hint;
    }

    public int exitCode() {
      return exitCode;
    }
  }

  /** How commands reach the controller: URL and operator token, from options, environment or a file. */
  public static final class Connection {
    @Option(names = "--monitor", description = "controller URL (env PGWARDEN_MONITOR), e.g. http://127.0.0.1:7000")
    String monitor;

    @Option(names = "--token", description = "operator token (env PGWARDEN_TOKEN)")
    String token;

    @Option(names = "--token-file", description = "file holding the operator token")
    Path tokenFile;

    @Option(names = "--dir", description = "a controller's data directory: its URL and saved token are used")
    Path dir;

    public ApiClient client() {
      String url = monitor != null ? monitor : System.getenv("PGWARDEN_MONITOR");
      String tok = token != null ? token : System.getenv("PGWARDEN_TOKEN");
      try {
        if (tok == null && tokenFile != null) tok = Files.readString(tokenFile).strip();
        if (dir != null) {
          var cfg = io.pgwarden.controller.app.ControllerConfig.load(dir);
          if (url == null) url = "http://" + cfg.listenHost() + ":" + cfg.listenPort();
          Path saved = dir.resolve(CreateCommands.OPERATOR_TOKEN_FILE);
          if (tok == null && Files.exists(saved)) tok = Files.readString(saved).strip();
        }
      } catch (java.io.IOException e) {
        throw new UserError("cannot read " + e.getMessage(), "check the file's path and permissions");
      }
      if (url == null) {
        throw new UserError("no controller given", "pass --monitor URL, set PGWARDEN_MONITOR, or pass --dir", USAGE);
      }
      return new ApiClient(java.net.URI.create(url), tok);
    }
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Pgwarden.class.getPackage().getImplementationVersion();
      return new String[] {"pgwarden " + (v == null ? "0.1.0-SNAPSHOT" : v)};
    }
  }
}
