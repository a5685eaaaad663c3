package io.pgwarden.keeper.app;

import io.pgwarden.api.ApiClient;
import io.pgwarden.api.ApiException;
import io.pgwarden.api.Dto;
import io.pgwarden.keeper.StateFile;
import io.pgwarden.keeper.pg.LocalPg;
import io.pgwarden.keeper.pg.PgCluster;
import io.pgwarden.os.OsUser;
import io.pgwarden.os.PgBinaries;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code pgwarden create postgres}: checks everything it can first and changes nothing on bad input,
 * then registers the node with the controller (operator token) and writes the keeper's configuration.
 * PostgreSQL itself is made (initdb, or a clone) by the keeper once it runs and the controller says how.
 *
 * <p>Checks, in order: no configuration in the keeper directory yet; the PostgreSQL user and programs
 * exist (when root); PGDATA is empty or missing, or a valid cluster with its configuration in it that no
 * postmaster runs (one started by another service manager is refused); the PostgreSQL port and the
 * keeper API's port are free; the controller answers and the formation exists; an existing cluster's
 * system identifier is the formation's.
 */
public final class KeeperCreate {
  /** Exit codes, as the command line uses them. */
  public static final int FAILED = 1;
  public static final int UNREACHABLE = 3;

  private KeeperCreate() {}

  /**
   * What to create.
   *
   * @param dir the keeper's directory (configuration, credential, state)
   * @param listen PostgreSQL's listen_addresses; null: the hostname when it is an IP address, else "*"
   * @param keeperListen HOST:PORT of the keeper API
   * @param durable false only for tests
   * @param pgSettings extra PostgreSQL settings
   */
  public record Request(Path dir, String formation, String name, Path pgdata, int pgport, String hostname,
      String listen, String pgUser, String keeperListen, Integer candidatePriority, Boolean replicationQuorum,
      boolean durable, Map<String, String> pgSettings) {}

  /** Bad input or an unmet precondition: nothing was changed. */
  public static final class Refused extends RuntimeException {
    private final String hint;
    private final int exitCode;

    Refused(String cause, String hint, int exitCode) {
      super(cause);
      this.hint = hint;
      this.exitCode = exitCode;
    }

    Refused(String cause, String hint) {
      this(cause, hint, FAILED);
    }

    public String hint() {
      return hint;
    }

    public int exitCode() {
      return exitCode;
    }
  }

  /** The default keeper directory: {@code pgwarden} beside PGDATA (with its {@code run} and {@code log}). */
  public static Path defaultDir(Path pgdata) {
    return pgdata.toAbsolutePath().normalize().resolveSibling("pgwarden");
  }

  /** The default keeper API port: the PostgreSQL port + 3000 (5432 → 8432). */
  public static int defaultKeeperPort(int pgport) {
    return pgport + 3000 <= 65535 ? pgport + 3000 : pgport - 3000;
  }

  /** Checks, registers, writes the configuration; returns it. */
  public static KeeperFileConfig create(Request r, ApiClient operator) {
    Path dir = r.dir().toAbsolutePath().normalize();
    Path pgdata = r.pgdata().toAbsolutePath().normalize();
    check(r.name() != null && r.name().matches("[A-Za-z0-9_.-]{1,63}"), "bad node name '" + r.name() + "'",
        "use letters, digits, '_', '.', '-' (at most 63)");
    check(r.pgport() > 0 && r.pgport() < 65536, "bad --pgport " + r.pgport(), "a port is a number from 1 to 65535");
    check(r.hostname() != null && r.hostname().matches("[A-Za-z0-9.:_-]{1,253}"), "bad --hostname '" + r.hostname()
        + "'", "give the name or address other nodes and the controller reach this one at");
    String[] kl;
    try {
      kl = KeeperFileConfig.hostPort(r.keeperListen());
      int kp = Integer.parseInt(kl[1]);
      if (kp < 1 || kp > 65535) throw new NumberFormatException();
    } catch (RuntimeException e) {
      throw new Refused("bad --keeper-listen '" + r.keeperListen() + "'", "write it as HOST:PORT, e.g. 127.0.0.1:8432");
    }
    int keeperPort = Integer.parseInt(kl[1]);
    check(keeperPort != r.pgport(), "the keeper API and PostgreSQL cannot share port " + keeperPort,
        "pass another --keeper-listen");

    // 1. the keeper directory
    if (KeeperFileConfig.exists(dir) || Files.exists(dir.resolve(StateFile.NAME))) {
      throw new Refused(dir + " already holds a pgwarden configuration", "run it with 'pgwarden run --dir " + dir
          + "', or choose another --dir");
    }
    check(!dir.equals(pgdata) && !dir.startsWith(pgdata), "the keeper directory " + dir + " is inside PGDATA",
        "keep it beside PGDATA (the default is " + defaultDir(pgdata) + ")");

    // 2. the PostgreSQL user and programs
    String pgUser;
    PgBinaries bin;
    try {
      pgUser = OsUser.pgUserFor(r.pgUser());
      bin = PgBinaries.locate();
    } catch (IllegalStateException e) {
      throw new Refused(e.getMessage(), "install Debian's 'postgresql' package (apt-get install -y postgresql), which"
          + " also creates the 'postgres' user, or pass --pg-user");
    }

    // 3. PGDATA
    Long localSysid = null;
    if (Files.exists(pgdata)) {
      check(Files.isDirectory(pgdata), pgdata + " is not a directory", "point --pgdata at a directory");
      if (!isEmpty(pgdata)) {
        if (!PgCluster.isCluster(pgdata)) {
          throw new Refused(pgdata + " is not empty and is not a PostgreSQL cluster",
              "empty it, or point --pgdata at an empty or missing directory or at an existing cluster");
        }
        check(Files.isRegularFile(pgdata.resolve("postgresql.conf")), pgdata + " is a cluster without its"
            + " postgresql.conf (Debian keeps it in /etc/postgresql/<version>/<cluster>)", "copy postgresql.conf,"
            + " pg_hba.conf and pg_ident.conf into PGDATA, or let pgwarden make a new cluster in an empty --pgdata");
        LocalPg probe = LocalPg.of(0, pgdata, r.pgport(), "127.0.0.1", pgUser, bin);
        PgCluster c = new PgCluster(probe);
        if (c.isRunning()) {
          throw new Refused("PostgreSQL runs in " + pgdata + " (postmaster " + c.postmasterPid().orElse(0)
              + "), started by something else", "stop it and disable that service (e.g. systemctl disable --now"
              + " postgresql@15-main): pgwarden's keeper must be the only one to start it");
        }
        try {
          localSysid = c.systemIdentifier();
        } catch (RuntimeException e) {
          throw new Refused("cannot read the control file of " + pgdata + ": " + e.getMessage(),
              "check that it is a PostgreSQL " + "cluster of the installed version");
        }
      }
    }

    // 4. ports
    check(portFree(r.pgport()), "port " + r.pgport() + " is in use", "stop what listens there or pass another"
        + " --pgport");
    check(portFree(keeperPort), "the keeper API port " + keeperPort + " is in use",
        "pass another --keeper-listen HOST:PORT");

    // 5. the controller and the formation
    if (!operator.health()) {
      throw new Refused("cannot reach the controller at " + operator.base(),
          "check that the controller runs and that --monitor points at it", UNREACHABLE);
    }
    Dto.FormationState fs = call(() -> operator.state(r.formation()));
    if (localSysid != null && fs.systemIdentifier() != null
        && !fs.systemIdentifier().equals(Long.toUnsignedString(localSysid))) {
      throw new Refused("the cluster in " + pgdata + " has system identifier " + Long.toUnsignedString(localSysid)
          + ", formation " + r.formation() + " has " + fs.systemIdentifier(),
          "it is another database: point --pgdata at an empty directory to clone the formation's primary");
    }

    // 6. register, then write the configuration
    String keeperHost = kl[0].isEmpty() || kl[0].equals("0.0.0.0") || kl[0].equals("::") ? r.hostname() : kl[0];
    String keeperUrl = "http://" + (keeperHost.contains(":") ? "[" + keeperHost + "]" : keeperHost) + ":" + keeperPort;
    Dto.Registration reg = call(() -> operator.register(r.formation(), new Dto.RegisterNode(r.name(), r.hostname(),
        r.pgport(), keeperUrl, r.candidatePriority(), r.replicationQuorum())));
    String listen = r.listen() != null && !r.listen().isBlank() ? r.listen()
        : r.hostname().matches("[0-9.]+|[0-9a-fA-F:]+") ? r.hostname() : "*";
    KeeperFileConfig cfg = new KeeperFileConfig(KeeperFileConfig.ROLE, r.formation(), reg.nodeId(), reg.name(),
        operator.base().toString(), pgdata.toString(), r.pgport(), r.hostname(), listen,
        r.pgUser() == null ? "postgres" : r.pgUser(), r.keeperListen(), keeperUrl, reg.timing(), r.durable(),
        r.pgSettings());
    try {
      cfg.save(dir, reg.credential());
    } catch (RuntimeException e) {
      throw new Refused("node " + reg.nodeId() + " is registered but its configuration could not be written: "
          + e.getMessage(), "fix the directory, then drop the node ('pgwarden drop node --name " + reg.name()
          + "') and create it again");
    }
    return cfg;
  }

  private interface Call<T> {
    T run();
  }

  private static <T> T call(Call<T> c) {
    try {
      return c.run();
    } catch (ApiException e) {
      if (e.status() == 0) {
        throw new Refused(e.getMessage(), "check that the controller runs and that --monitor points at it",
            UNREACHABLE);
      }
      String hint = switch (e.status()) {
        case 401, 403 -> "registration needs an operator token: --token, PGWARDEN_TOKEN or --token-file";
        case 404 -> "create the formation first ('pgwarden create formation --formation F') or fix --formation";
        case 409 -> "the name or address is in use, or the formation cannot take a node now: check 'pgwarden show"
            + " state'";
        default -> "check the values given";
      };
      throw new Refused(e.getMessage() + " (" + e.code() + ", HTTP " + e.status() + ")", hint);
    }
  }

  private static void check(boolean ok, String cause, String hint) {
    if (!ok) throw new Refused(cause, hint);
  }

  private static boolean isEmpty(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.findAny().isEmpty();
    } catch (IOException e) {
      throw new Refused("cannot read " + dir + ": " + e.getMessage(), "check its permissions");
    }
  }

  /** Nothing listens on {@code port} (any address): binding the wildcard address succeeds. */
  static boolean portFree(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress((InetAddress) null, port), 1);
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
