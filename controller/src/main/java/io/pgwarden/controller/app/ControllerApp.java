package io.pgwarden.controller.app;

import com.typesafe.config.ConfigFactory;
import io.pgwarden.api.ApiConfig;
import io.pgwarden.api.ApiServer;
import io.pgwarden.api.Authenticator;
import io.pgwarden.api.JournalEvents;
import io.pgwarden.api.TokenStore;
import io.pgwarden.controller.actor.ControllerClock;
import io.pgwarden.controller.actor.ControllerMetrics;
import io.pgwarden.controller.actor.ControllerServiceImpl;
import io.pgwarden.controller.actor.CredentialIndex;
import io.pgwarden.controller.actor.FormationRegistry;
import io.pgwarden.controller.actor.FormationSupervisor;
import io.pgwarden.controller.actor.NodeProbe;
import io.pgwarden.persistence.JournalStore;
import io.pgwarden.persistence.read.EventLog;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * A running controller: the journal (schema created first), one supervisor per formation, the HTTP API.
 * {@link #close()} unbinds and stops everything.
 */
public final class ControllerApp implements AutoCloseable {
  private final ActorSystem<Void> system;
  private final ApiServer server;
  private final EventLog eventLog;
  private final ExecutorService blocking;
  private final ControllerServiceImpl service;

  private ControllerApp(ActorSystem<Void> system, ApiServer server, EventLog eventLog, ExecutorService blocking,
      ControllerServiceImpl service) {
    this.system = system;
    this.server = server;
    this.eventLog = eventLog;
    this.blocking = blocking;
    this.service = service;
  }

  public static ControllerApp start(Path dir, ControllerConfig config) {
    JournalStore store = config.journal(dir);
    store.createSchema();
    Path tokens = dir.resolve(ControllerConfig.TOKENS_FILE);
    TokenStore.checkPermissions(tokens);
    TokenStore operators = TokenStore.open(tokens);
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "pgwarden",
        store.pekkoConfig().withFallback(ConfigFactory.load()));
    ExecutorService blocking = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "pgwarden-io");
      t.setDaemon(true);
      return t;
    });
    try {
      ControllerMetrics metrics = new ControllerMetrics();
      CredentialIndex credentials = new CredentialIndex();
      long epoch = System.currentTimeMillis();
      var deps = new FormationSupervisor.Deps(config.timing(), ControllerClock.SYSTEM, epoch, NodeProbe.DEFAULT,
          blocking, credentials, metrics);
      ActorRef<FormationRegistry.Command> registry = system.systemActorOf(FormationRegistry.create(deps), "formations",
          org.apache.pekko.actor.typed.Props.empty());
      EventLog log = new EventLog(store);
      JournalEvents events = new JournalEvents(log, blocking, Duration.ofMillis(200));
      ControllerServiceImpl service = new ControllerServiceImpl(system, registry, credentials, metrics,
          new ControllerServiceImpl.EventReader() {
            @Override
            public java.util.concurrent.CompletionStage<io.pgwarden.api.Dto.EventPage> page(String f, Long before,
                Long since, int limit) {
              return events.page(f, before, since, limit);
            }

            @Override
            public org.apache.pekko.stream.javadsl.Source<io.pgwarden.api.Dto.EventView, org.apache.pekko.NotUsed> live(
                String f, long after) {
              return events.live(f, after);
            }

            @Override
            public java.util.concurrent.CompletionStage<java.util.List<io.pgwarden.controller.audit.RecordedEvent>>
                journal(String f) {
              return java.util.concurrent.CompletableFuture.supplyAsync(() -> AuditReading.journal(log, f), blocking);
            }
          });
      Optional<ApiConfig.Tls> tls = config.tlsKeystore() == null || config.tlsKeystore().isBlank() ? Optional.empty()
          : Optional.of(new ApiConfig.Tls(Path.of(config.tlsKeystore()),
              ControllerConfig.secret(config.tlsPasswordFile())));
      ApiConfig api = new ApiConfig(config.listenHost(), config.listenPort(), tls, ApiConfig.DEFAULT_MAX_BODY_BYTES,
          ApiConfig.DEFAULT_MAX_REPORT_WAIT, ApiConfig.DEFAULT_SSE_KEEP_ALIVE, config.openMetrics());
      ApiServer server = ApiServer.start(system, service, Authenticator.of(operators, service), api);
      return new ControllerApp(system, server, log, blocking, service);
    } catch (RuntimeException e) {
      system.terminate();
      blocking.shutdownNow();
      throw e;
    }
  }

  public int port() {
    return server.port();
  }

  public ControllerServiceImpl service() {
    return service;
  }

  public ActorSystem<Void> system() {
    return system;
  }

  @Override
  public void close() {
    server.close();
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
    } catch (Exception ignored) {
      // best effort at shutdown
    }
    eventLog.close();
    blocking.shutdownNow();
  }
}
