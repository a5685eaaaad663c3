package io.pgwarden.controller.bench;

import com.typesafe.config.ConfigFactory;
import io.pgwarden.api.ApiClient;
import io.pgwarden.api.ApiConfig;
import io.pgwarden.api.ApiServer;
import io.pgwarden.api.Authenticator;
import io.pgwarden.api.Dto;
import io.pgwarden.api.TokenStore;
import io.pgwarden.controller.actor.ControllerClock;
import io.pgwarden.controller.actor.ControllerMetrics;
import io.pgwarden.controller.actor.ControllerServiceImpl;
import io.pgwarden.controller.actor.CredentialIndex;
import io.pgwarden.controller.actor.FormationRegistry;
import io.pgwarden.controller.actor.FormationSupervisor;
import io.pgwarden.controller.actor.NodeProbe;
import io.pgwarden.model.Lsn;
import io.pgwarden.model.NodeReport;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.PgStatus;
import io.pgwarden.model.ReportReply;
import io.pgwarden.model.Requester;
import io.pgwarden.model.TermSeq;
import io.pgwarden.model.Timing;
import io.pgwarden.model.WalReceiverInfo;
import io.pgwarden.os.Dirs;
import io.pgwarden.persistence.JournalStore;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Load on the controller: simulated nodes in two-node formations, each reporting once a second, either
 * straight to the service (in-process) or over HTTP with its own credential and JSON. Prints throughput,
 * latency, the load generator's own CPU, and the journal rows written by reports that changed nothing.
 *
 * <p>Usage: ControllerBench [in-process|http] [nodes] [seconds]
 */
public final class ControllerBench {
  public static void main(String[] args) throws Exception {
    String mode = args.length > 0 ? args[0] : "in-process";
    int nodes = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
    int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 30;
    new ControllerBench().run(mode, nodes - nodes % 2, seconds);
    System.exit(0);
  }

  /** One simulated keeper: reaches every goal at once, as a real one would after its transition. */
  static final class Node {
    final String formation;
    final int id;
    String credential;
    NodeState state = NodeState.INIT;
    TermSeq executed = TermSeq.NONE;
    long term;
    String names = "";

    Node(String formation, int id) {
      this.formation = formation;
      this.id = id;
    }

    NodeReport report() {
      boolean primary = state.canTakeWrites();
      return new NodeReport(state, executed, term, PgStatus.RUNNING, !primary, 7, 1, Lsn.parse("0/3000000"),
          Lsn.parse("0/3000000"), names, List.of(), primary ? null
          : new WalReceiverInfo("streaming", 1, "127.0.0.1", 5401, 1, 20L), primary ? null : 40L, false, null, null);
    }

    void adopt(ReportReply r) {
      term = Math.max(term, r.term());
      if (r.goal().stamp().isNewerThan(executed)) {
        executed = r.goal().stamp();
        state = r.goal().state();
        if (state.canTakeWrites()) names = r.syncStandbyNames();
      }
    }
  }

  interface Reporter {
    CompletableFuture<ReportReply> report(Node n);
  }

  void run(String mode, int nodes, int seconds) throws Exception {
    Path dir = Files.createTempDirectory("pgw-bench");
    JournalStore store = JournalStore.h2File(dir.resolve("journal"));
    store.createSchema();
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "bench",
        store.pekkoConfig().withFallback(ConfigFactory.load()));
    var blocking = Executors.newFixedThreadPool(4);
    ControllerMetrics metrics = new ControllerMetrics();
    CredentialIndex credentials = new CredentialIndex();
    NodeProbe alwaysUp = (a, t) -> new NodeProbe.Result(true, "bench");
    var deps = new FormationSupervisor.Deps(Timing.DEFAULT, ControllerClock.SYSTEM, 1, alwaysUp, blocking,
        credentials, metrics);
    ActorRef<FormationRegistry.Command> registry = system.systemActorOf(FormationRegistry.create(deps), "formations",
        Props.empty());
    ControllerServiceImpl service = new ControllerServiceImpl(system, registry, credentials, metrics, null);
    while (!service.ready()) {
      TimeUnit.MILLISECONDS.sleep(50);
    }
    Reporter direct = n -> service.report(n.formation, n.id, n.report(), n.executed, Duration.ZERO)
        .toCompletableFuture();
    Reporter reporter = direct;
    ApiServer server = null;
    if (mode.equals("http")) {
      Path tokens = dir.resolve("tokens.json");
      TokenStore.create(tokens, "bench");
      server = ApiServer.start(system, service, Authenticator.of(TokenStore.open(tokens), service),
          ApiConfig.loopback(0));
      ApiServer srv = server;
      ApiClient shared = new ApiClient(srv.baseUri(), null);
      java.util.Map<String, ApiClient> clients = new java.util.concurrent.ConcurrentHashMap<>();
      reporter = n -> clients.computeIfAbsent(n.credential, shared::withToken)
          .reportAsync(n.formation, n.id, n.report(), n.executed, Duration.ZERO);
    }

    // set up: formations of two nodes, converged to primary + secondary
    long setupStart = System.nanoTime();
    List<Node> all = new ArrayList<>();
    List<CompletableFuture<?>> pending = new ArrayList<>();
    for (int i = 0; i < nodes / 2; i++) {
      String f = "f" + i;
      pending.add(service.createFormation(new Dto.CreateFormation(f, null, null, null, null),
          Requester.of("bench", "")).toCompletableFuture());
      if (pending.size() == 50) { // a new formation's supervisor recovers first: not thousands at once
        CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).get(10, TimeUnit.MINUTES);
        pending.clear();
      }
    }
    CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).get(10, TimeUnit.MINUTES);
    for (int i = 0; i < nodes / 2; i++) {
      for (int k = 1; k <= 2; k++) {
        Node n = new Node("f" + i, k);
        Dto.Registration r = service.register(n.formation, new Dto.RegisterNode("n" + k, "10.0." + (i / 250) + "."
            + (i % 250), 5400 + k, null, null, null)).toCompletableFuture().get(1, TimeUnit.MINUTES);
        n.credential = r.credential();
        all.add(n);
        if (k == 1) round(List.of(n), direct);
      }
    }
    for (int i = 0; i < 12; i++) round(all, direct);
    long converged = all.stream().filter(n -> n.state == (n.id == 1 ? NodeState.PRIMARY : NodeState.SECONDARY))
        .count();
    System.out.printf(Locale.ROOT, "setup: %d nodes in %d formations, %d converged, %.1f s%n", all.size(),
        all.size() / 2, converged, (System.nanoTime() - setupStart) / 1e9);
    round(all, direct);
    long rowsBefore = rows(store);

    // steady state: every node reports once a second, spread evenly over the second
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    ConcurrentLinkedQueue<Long> generatorThreads = new ConcurrentLinkedQueue<>();
    ScheduledExecutorService gen = Executors.newScheduledThreadPool(2, r -> {
      Thread t = new Thread(r, "load-generator");
      t.setDaemon(true);
      return t;
    });
    AtomicLong sent = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    long[] lat = new long[all.size() * (seconds + 2)];
    AtomicLong latN = new AtomicLong();
    long periodNs = 1_000_000_000L / Math.max(1, all.size());
    long start = System.nanoTime();
    Reporter rep = reporter;
    for (int i = 0; i < all.size(); i++) {
      Node n = all.get(i);
      gen.scheduleAtFixedRate(() -> {
        long tid = Thread.currentThread().getId();
        if (!generatorThreads.contains(tid)) generatorThreads.add(tid);
        long t0 = System.nanoTime();
        sent.incrementAndGet();
        rep.report(n).whenComplete((r, e) -> {
          long d = System.nanoTime() - t0;
          if (e != null) {
            if (failed.incrementAndGet() <= 3) System.out.println("report failed: " + e);
            return;
          }
          long idx = latN.getAndIncrement();
          if (idx < lat.length) lat[(int) idx] = d;
        });
      }, i * periodNs, 1_000_000_000L, TimeUnit.NANOSECONDS);
    }
    TimeUnit.SECONDS.sleep(seconds);
    gen.shutdownNow();
    long elapsed = System.nanoTime() - start;
    long genCpu = 0;
    for (long tid : generatorThreads) genCpu += Math.max(0, mx.getThreadCpuTime(tid));
    TimeUnit.MILLISECONDS.sleep(500);
    long rowsAfter = rows(store);
    int n = (int) Math.min(latN.get(), lat.length);
    long[] l = Arrays.copyOf(lat, n);
    Arrays.sort(l);
    double procCpu = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime() / 1e9;
    System.out.printf(Locale.ROOT,
        "RESULT mode=%s nodes=%d seconds=%d reports=%d failed=%d reports_per_s=%.0f p50_ms=%.3f p99_ms=%.3f"
            + " p999_ms=%.3f generator_cpu_s=%.1f process_cpu_s=%.1f journal_rows_from_steady_reports=%d%n",
        mode, all.size(), seconds, n, failed.get(), n / (elapsed / 1e9), pct(l, 0.50), pct(l, 0.99), pct(l, 0.999),
        genCpu / 1e9, procCpu, rowsAfter - rowsBefore);
    if (server != null) server.close();
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    blocking.shutdownNow();
    Dirs.deleteTree(dir);
  }

  private static void round(List<Node> nodes, Reporter r) throws Exception {
    List<CompletableFuture<Void>> fs = new ArrayList<>();
    for (Node n : nodes) fs.add(r.report(n).thenAccept(n::adopt));
    CompletableFuture.allOf(fs.toArray(CompletableFuture[]::new)).get(5, TimeUnit.MINUTES);
  }

  private static double pct(long[] sorted, double p) {
    if (sorted.length == 0) return Double.NaN;
    return sorted[Math.min(sorted.length - 1, (int) (sorted.length * p))] / 1e6;
  }

  private static long rows(JournalStore store) throws Exception {
    try (var c = store.connect(); var st = c.createStatement();
        var rs = st.executeQuery("SELECT COUNT(*) FROM \"event_journal\"")) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
