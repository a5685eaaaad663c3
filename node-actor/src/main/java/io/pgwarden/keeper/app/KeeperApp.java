package io.pgwarden.keeper.app;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.pgwarden.api.ApiClient;
import io.pgwarden.keeper.ControllerLink;
import io.pgwarden.keeper.ExecutorActor;
import io.pgwarden.keeper.Fencer;
import io.pgwarden.keeper.KeeperActor;
import io.pgwarden.keeper.KeeperClock;
import io.pgwarden.keeper.KeeperConfig;
import io.pgwarden.keeper.KeeperHttp;
import io.pgwarden.keeper.KeeperStatus;
import io.pgwarden.keeper.KeeperStep;
import io.pgwarden.keeper.PeerLink;
import io.pgwarden.keeper.Persisted;
import io.pgwarden.keeper.StateFile;
import io.pgwarden.keeper.StepRunner;
import io.pgwarden.keeper.pg.BaseBackup;
import io.pgwarden.keeper.pg.LocalPg;
import io.pgwarden.keeper.pg.PgCluster;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.Timing;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running keeper: its configuration and persisted state read from its directory, the shell
 * ({@link KeeperActor}), the {@link ExecutorActor} on its own dispatcher, the {@link Fencer} on its own
 * thread, the keeper API, and systemd notifications when run as a notify service.
 *
 * <p>{@link #close()} is a graceful stop: the loop stops, then PostgreSQL is stopped (fast): the keeper
 * owns it, and a PostgreSQL left running without its keeper would have no fence. {@link #halt()} is the
 * opposite, for tests: as if the process were killed, PostgreSQL is left as it is.
 */
public final class KeeperApp implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(KeeperApp.class);
  public static final int EXIT_OK = 0;
  public static final int EXIT_DROPPED = KeeperActor.EXIT_DROPPED;

  /** Test hooks and the clock; production uses {@link #DEFAULT}. */
  public record Options(StepRunner.Hook hook, KeeperClock clock, boolean systemd) {
    public static final Options DEFAULT = new Options(StepRunner.Hook.NONE, KeeperClock.SYSTEM, true);

    public Options withHook(StepRunner.Hook h) {
      return new Options(h, clock, systemd);
    }
  }

  private final KeeperFileConfig config;
  private final LocalPg pg;
  private final ActorSystem<Void> system;
  private final ActorRef<KeeperActor.Msg> keeper;
  private final StepRunner runner;
  private final Fencer fencer;
  private final KeeperHttp http;
  private final AtomicReference<KeeperStatus> status;
  private final CompletableFuture<Integer> exit;
  private final AtomicBoolean stopped = new AtomicBoolean();
  private final SystemdNotify systemd;

  private KeeperApp(KeeperFileConfig config, LocalPg pg, ActorSystem<Void> system, ActorRef<KeeperActor.Msg> keeper,
      StepRunner runner, Fencer fencer, KeeperHttp http, AtomicReference<KeeperStatus> status,
      CompletableFuture<Integer> exit, SystemdNotify systemd) {
    this.config = config;
    this.pg = pg;
    this.system = system;
    this.keeper = keeper;
    this.runner = runner;
    this.fencer = fencer;
    this.http = http;
    this.status = status;
    this.exit = exit;
    this.systemd = systemd;
  }

  public static KeeperApp start(Path dir) {
    return start(dir, Options.DEFAULT);
  }

  /**
   * Starts the keeper of {@code dir}.
   *
   * @throws IllegalStateException when the configuration, the state, the PostgreSQL user or programs, or
   *     the keeper API's address cannot be used, with the fix
   */
  public static KeeperApp start(Path dir, Options opts) {
    dir = dir.toAbsolutePath().normalize();
    KeeperFileConfig cfg = KeeperFileConfig.load(dir);
    StateFile stateFile = new StateFile(dir);
    Persisted persisted = stateFile.read();
    if (persisted.current() == NodeState.DROPPED && !persisted.executed().equals(io.pgwarden.model.TermSeq.NONE)) {
      throw new IllegalStateException("node " + cfg.nodeId() + " (" + cfg.name() + ") was dropped from formation "
          + cfg.formation() + "; remove " + dir + " (and its PGDATA if unwanted) and create the node again");
    }
    LocalPg pg = cfg.localPg();
    String credential = KeeperFileConfig.credential(dir);
    Timing timing = cfg.timing();
    // an interrupted clone may have left PGDATA aside: put it back before anything reads it
    new BaseBackup(pg).cleanupLeftovers();

    Config akka = ConfigFactory.parseString(ExecutorActor.DISPATCHER_CONFIG + "\n"
        + "pekko.loglevel = \"WARNING\"\n"
        + "pekko.http.server.request-timeout = 10s\n"
        + "pekko.http.server.idle-timeout = 60s\n"
        + "pekko.coordinated-shutdown.exit-jvm = off\n"
        + "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off\n")
        .withFallback(ConfigFactory.load());
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "pgwarden-keeper-" + cfg.nodeId(), akka);
    StepRunner.Identity id = new StepRunner.Identity(cfg.formation(), cfg.nodeId(), cfg.name());
    Fencer fencer = new Fencer(pg, id.label());
    StepRunner runner = new StepRunner(pg, id, dir, opts.clock(), opts.hook());
    CompletableFuture<Integer> exit = new CompletableFuture<>();
    AtomicReference<KeeperStatus> status = new AtomicReference<>(KeeperStatus.initial(cfg.nodeId(), cfg.name(),
        cfg.formation()));
    SystemdNotify systemd = opts.systemd() ? SystemdNotify.fromEnvironment() : SystemdNotify.disabled();
    try {
      Executor io = system.dispatchers().lookup(DispatcherSelector.fromConfig(ExecutorActor.IO_DISPATCHER));
      ActorRef<ExecutorActor.Command> executor = system.systemActorOf(ExecutorActor.create(runner), "executor",
          ExecutorActor.dispatcher());
      ApiClient api = new ApiClient(URI.create(cfg.monitor()), credential,
          Duration.ofMillis(Math.max(200, timing.reportIntervalMs())), null);
      KeeperStep step = new KeeperStep(KeeperConfig.of(cfg.nodeId(), timing));
      KeeperActor.Deps deps = new KeeperActor.Deps(step, id, persisted, stateFile,
          ControllerLink.http(api, cfg.formation(), cfg.nodeId()),
          PeerLink.http(Duration.ofMillis(Math.max(200, timing.reportIntervalMs()))), executor, fencer,
          runner.ops(), io, opts.clock(), status::set, code -> exit.complete(code), systemd::watchdog);
      // bind first: a keeper API that cannot serve stops the start before PostgreSQL is touched
      AtomicReference<ActorRef<KeeperActor.Msg>> keeperRef = new AtomicReference<>();
      long liveness = Math.max(1_000, 10 * timing.tickMs());
      KeeperHttp http = KeeperHttp.start(system, cfg.keeperHost(), cfg.keeperPort(), status::get, keeperRef::get,
          opts.clock(), liveness);
      ActorRef<KeeperActor.Msg> keeper = system.systemActorOf(KeeperActor.create(deps), "keeper", Props.empty());
      keeperRef.set(keeper);
      KeeperApp app = new KeeperApp(cfg, pg, system, keeper, runner, fencer, http, status, exit, systemd);
      log.info("{}: keeper running: PostgreSQL {} on port {}, controller {}, keeper API {}", id.label(), pg.pgdata(),
          pg.port(), cfg.monitor(), cfg.keeperApiUrl());
      systemd.ready("node " + cfg.nodeId() + " of formation " + cfg.formation());
      // completed on the keeper's own thread: stop from another one
      exit.thenAcceptAsync(code -> {
        if (code == EXIT_DROPPED) app.shutdown(false);
      }, r -> {
        Thread t = new Thread(r, "pgwarden-keeper-exit");
        t.setDaemon(true);
        t.start();
      });
      return app;
    } catch (RuntimeException e) {
      runner.abort();
      system.terminate();
      fencer.close();
      runner.close();
      systemd.close();
      throw e;
    }
  }

  public KeeperFileConfig config() {
    return config;
  }

  public LocalPg localPg() {
    return pg;
  }

  /** Completes with the exit code: {@link #EXIT_DROPPED} when the node left its formation, else 0 at close. */
  public CompletableFuture<Integer> exit() {
    return exit;
  }

  public KeeperStatus status() {
    return status.get();
  }

  public int keeperApiPort() {
    return http.port();
  }

  public long fencesCompleted() {
    return fencer.completed();
  }

  /** Graceful stop: the loop, then PostgreSQL (fast), then everything else. */
  @Override
  public void close() {
    shutdown(true);
    exit.complete(EXIT_OK);
  }

  /** As if the keeper process were killed: the running step is aborted, PostgreSQL is left as it is. */
  public void halt() {
    if (!stopped.compareAndSet(false, true)) return;
    log.warn("node {}: keeper halted (test): PostgreSQL left as it is", config.nodeId());
    runner.abort();
    http.close();
    terminate();
    exit.complete(EXIT_OK);
  }

  private void shutdown(boolean stopPostgres) {
    if (!stopped.compareAndSet(false, true)) return;
    CompletableFuture<Void> done = new CompletableFuture<>();
    keeper.tell(new KeeperActor.Shutdown(done));
    try {
      done.get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("node {}: the keeper loop did not stop in time: {}", config.nodeId(), e.toString());
    }
    http.close();
    runner.abort();
    if (stopPostgres) {
      try {
        PgCluster.Stopped s = new PgCluster(pg).stop(PgCluster.StopMode.FAST);
        if (s != PgCluster.Stopped.NOT_RUNNING) log.info("node {}: PostgreSQL stopped ({}) with the keeper",
            config.nodeId(), s);
      } catch (RuntimeException e) {
        log.error("node {}: stopping PostgreSQL with the keeper failed: {}", config.nodeId(), e.getMessage());
      }
    }
    terminate();
  }

  private void terminate() {
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(15, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("node {}: the keeper's actor system did not stop in time: {}", config.nodeId(), e.toString());
    }
    fencer.close();
    runner.close();
    systemd.close();
  }
}
