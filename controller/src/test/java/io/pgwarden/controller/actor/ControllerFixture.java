package io.pgwarden.controller.actor;

import com.typesafe.config.ConfigFactory;
import io.pgwarden.api.ApiException;
import io.pgwarden.api.Dto;
import io.pgwarden.model.NodeReport;
import io.pgwarden.model.ReportReply;
import io.pgwarden.model.TermSeq;
import io.pgwarden.model.Timing;
import io.pgwarden.persistence.JournalStore;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * A running controller for tests: real journal (H2 or PostgreSQL), real supervisors, the service the
 * HTTP routes call. {@link #restart()} stops the actor system and starts a new one on the same journal.
 */
final class ControllerFixture implements AutoCloseable {
  /** Fast timings so that failovers happen in about a second of real time. */
  static final Timing FAST = new Timing(100, 600, 50_000, 50, 600, 100, 150, 500, 10_000, 500, 20, 300,
      16L * 1024 * 1024);

  final JournalStore store;
  final Timing timing;
  ActorTestKit kit;
  ControllerServiceImpl service;
  ActorRef<FormationRegistry.Command> registry;
  final CredentialIndex credentials = new CredentialIndex();
  private long epoch;
  private final NodeProbe probe;

  ControllerFixture(JournalStore store, Timing timing, NodeProbe probe) {
    this.store = store;
    this.timing = timing;
    this.probe = probe;
    store.createSchema();
    start();
  }

  void start() {
    epoch++;
    kit = ActorTestKit.create("controller-" + epoch, store.pekkoConfig().withFallback(ConfigFactory.load()));
    var deps = new FormationSupervisor.Deps(timing, ControllerClock.SYSTEM, epoch, probe,
        Executors.newCachedThreadPool(), credentials, new ControllerMetrics());
    registry = kit.spawn(FormationRegistry.create(deps), "formations");
    service = new ControllerServiceImpl(kit.system(), registry, credentials, new ControllerMetrics(), null);
    long deadline = System.currentTimeMillis() + 20_000;
    while (!service.ready()) {
      if (System.currentTimeMillis() > deadline) throw new AssertionError("controller not ready");
    }
  }

  void restart() {
    kit.shutdownTestKit();
    start();
  }

  static <T> T get(CompletionStage<T> s) {
    try {
      return s.toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof ApiException a) throw a;
      throw new AssertionError(e.getCause());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  Dto.Registration register(String formation, String name, int port) {
    return get(service.register(formation, new Dto.RegisterNode(name, "127.0.0.1", port, null, null, null)));
  }

  ReportReply report(String formation, int node, NodeReport r) {
    return get(service.report(formation, node, r, TermSeq.NONE, Duration.ZERO));
  }

  @Override
  public void close() {
    kit.shutdownTestKit();
  }
}
