package io.pgwarden.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgwarden.model.FormationEvent;
import io.pgwarden.model.FormationSettings;
import io.pgwarden.model.Goal;
import io.pgwarden.model.JournalEvent;
import io.pgwarden.model.Lsn;
import io.pgwarden.model.NodeAddress;
import io.pgwarden.model.NodeEvent;
import io.pgwarden.model.NodeReport;
import io.pgwarden.model.NodeSettings;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.PeerInfo;
import io.pgwarden.model.PgStatus;
import io.pgwarden.model.ReportReply;
import io.pgwarden.model.Requester;
import io.pgwarden.model.TermSeq;
import io.pgwarden.model.DecisionInputs;
import io.pgwarden.persistence.JournalSerializer;
import io.pgwarden.persistence.Json;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.pekko.NotUsed;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.javadsl.Source;

/**
 * An in-memory stand-in for the controller, until the real one replaces it in these tests. It keeps
 * formations and nodes in maps, journals events in a list, and holds report replies for the long-poll
 * until a test changes a goal ({@link #setGoal}). Every mutation bumps {@link #version()}, so a test can
 * tell whether a request changed anything. Refusals throw or fail with ApiException, as the contract says;
 * model records throw IllegalArgumentException for bad values.
 */
final class FakeController implements ControllerService {
  private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_-]{0,62}");

  static final class Node {
    final int id;
    final String name;
    final NodeAddress address;
    final String keeperApi;
    NodeSettings settings;
    Goal goal;
    NodeReport last;
    Long lastReportAt;
    final String credentialHash;
    final List<CompletableFuture<ReportReply>> waiters = new ArrayList<>();

    Node(int id, String name, NodeAddress address, String keeperApi, NodeSettings settings, Goal goal, String hash) {
      this.id = id;
      this.name = name;
      this.address = address;
      this.keeperApi = keeperApi;
      this.settings = settings;
      this.goal = goal;
      this.credentialHash = hash;
    }
  }

  static final class Formation {
    final String name;
    FormationSettings settings;
    long term = 1;
    long seq;
    int nextNodeId = 1;
    final TreeMap<Integer, Node> nodes = new TreeMap<>();
    final Map<String, Dto.Operation> operations = new LinkedHashMap<>();
    final Map<String, Dto.Operation> byKey = new HashMap<>();

    Formation(String name, FormationSettings settings) {
      this.name = name;
      this.settings = settings;
    }

    TermSeq nextStamp() {
      return new TermSeq(term, ++seq);
    }
  }

  record Stored(String formation, Dto.EventView view) {}

  private final Map<String, Formation> formations = new TreeMap<>();
  private final List<Stored> journal = new ArrayList<>();
  private final Map<String, Long> sequenceNrs = new HashMap<>();
  private final AtomicLong version = new AtomicLong();
  private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "fake-controller-timers");
    t.setDaemon(true);
    return t;
  });
  private long operationCounter;
  private volatile boolean ready = true;

  long version() {
    return version.get();
  }

  void setReady(boolean r) {
    ready = r;
  }

  void close() {
    timers.shutdownNow();
  }

  private static <T> CompletionStage<T> attempt(Supplier<T> work) {
    try {
      return CompletableFuture.completedFuture(work.get());
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private Formation formation(String name) {
    Formation f = formations.get(name);
    if (f == null) throw ApiException.notFound("no formation '" + name + "'");
    return f;
  }

  private Node node(Formation f, int id) {
    Node n = f.nodes.get(id);
    if (n == null) throw ApiException.notFound("no node " + id + " in formation '" + f.name + "'");
    return n;
  }

  private Node nodeNamed(Formation f, String name) {
    if (name == null || name.isBlank()) throw ApiException.badRequest("this action needs a node");
    return f.nodes.values().stream().filter(n -> n.name.equals(name)).findFirst()
        .orElseThrow(() -> ApiException.notFound("no node named '" + name + "' in formation '" + f.name + "'"));
  }

  private void journal(String formation, String persistenceId, JournalEvent e) {
    long seq = sequenceNrs.merge(persistenceId, 1L, Long::sum);
    JsonNode json;
    try {
      json = Json.MAPPER.readTree(Json.writeEvent(e));
    } catch (java.io.IOException ex) {
      throw new IllegalStateException(ex);
    }
    journal.add(new Stored(formation, new Dto.EventView(journal.size() + 1, persistenceId, seq, e.at(),
        JournalSerializer.typeName(e.getClass()), json)));
  }

  private static long now() {
    return System.currentTimeMillis();
  }

  // ---- the contract ------------------------------------------------------------------------------

  @Override
  public synchronized CompletionStage<Dto.FormationSummary> createFormation(Dto.CreateFormation req, Requester by) {
    return attempt(() -> {
      if (req.name() == null || !NAME.matcher(req.name()).matches()) {
        throw ApiException.badRequest("a formation name must match [a-z][a-z0-9_-]{0,62}, got '" + req.name() + "'");
      }
      FormationSettings s = new FormationSettings(req.dbname() == null ? "postgres" : req.dbname(),
          req.numberSyncStandbys() == null ? 0 : req.numberSyncStandbys(),
          req.failoverDataLossAllowed() == null ? 0 : req.failoverDataLossAllowed());
      if (formations.containsKey(req.name())) throw ApiException.conflict("formation '" + req.name() + "' exists already");
      Formation f = new Formation(req.name(), s);
      formations.put(f.name, f);
      journal(f.name, "formation|" + f.name, new FormationEvent.FormationCreated(f.name, s, by, now()));
      version.incrementAndGet();
      return summary(f);
    });
  }

  private static Dto.FormationSummary summary(Formation f) {
    return new Dto.FormationSummary(f.name, f.settings, f.term, f.nodes.size());
  }

  @Override
  public synchronized CompletionStage<List<Dto.FormationSummary>> formations() {
    return CompletableFuture.completedFuture(formations.values().stream().map(FakeController::summary).toList());
  }

  @Override
  public synchronized CompletionStage<Void> dropFormation(String name, Requester by) {
    return attempt(() -> {
      Formation f = formation(name);
      formations.remove(name);
      journal(name, "formation|" + name, new FormationEvent.FormationDropped(by, now()));
      f.nodes.values().forEach(n -> n.waiters.forEach(w -> w.completeExceptionally(
          ApiException.notFound("formation '" + name + "' was dropped"))));
      version.incrementAndGet();
      return null;
    });
  }

  @Override
  public synchronized CompletionStage<Dto.Registration> register(String formation, Dto.RegisterNode req) {
    return attempt(() -> {
      Formation f = formation(formation);
      if (req.name() == null || !NAME.matcher(req.name()).matches()) {
        throw ApiException.badRequest("a node name must match [a-z][a-z0-9_-]{0,62}, got '" + req.name() + "'");
      }
      NodeAddress address = new NodeAddress(req.host(), req.port());
      NodeSettings settings = new NodeSettings(req.candidatePriority() == null ? 50 : req.candidatePriority(),
          req.replicationQuorum() == null || req.replicationQuorum());
      for (Node n : f.nodes.values()) {
        if (n.name.equals(req.name())) throw ApiException.conflict("a node named '" + req.name() + "' exists already");
        if (n.address.equals(address)) throw ApiException.conflict("node '" + n.name + "' has address " + address);
      }
      int id = f.nextNodeId++;
      String credential = Credentials.newNodeCredential();
      TermSeq stamp = f.nextStamp();
      Goal goal = new Goal(id, f.nodes.isEmpty() ? NodeState.SINGLE : NodeState.WAIT_STANDBY, stamp);
      Node n = new Node(id, req.name(), address, req.keeperApi(), settings, goal, Credentials.sha256Hex(credential));
      f.nodes.put(id, n);
      long at = now();
      journal(f.name, "formation|" + f.name, new FormationEvent.NodeRegistered(id, n.name, address, n.keeperApi, settings,
          n.credentialHash, at));
      journal(f.name, "node|" + f.name + "|" + id, new NodeEvent.Registered(f.name, id, n.name, address, settings, at));
      version.incrementAndGet();
      return new Dto.Registration(id, n.name, credential, goal, settings, f.settings, f.term, null);
    });
  }

  @Override
  public CompletionStage<ReportReply> report(String formation, int nodeId, NodeReport report, TermSeq known,
      Duration wait) {
    CompletableFuture<ReportReply> held;
    synchronized (this) {
      Formation f;
      Node n;
      try {
        f = formation(formation);
        n = node(f, nodeId);
      } catch (ApiException e) {
        return CompletableFuture.failedFuture(e);
      }
      n.last = report;
      n.lastReportAt = now();
      version.incrementAndGet();
      if (n.goal.stamp().isNewerThan(known) || wait.isZero()) return CompletableFuture.completedFuture(reply(f, n));
      held = new CompletableFuture<>();
      n.waiters.add(held);
      timers.schedule(() -> {
        synchronized (FakeController.this) {
          n.waiters.remove(held);
          held.complete(reply(f, n));
        }
      }, wait.toMillis(), TimeUnit.MILLISECONDS);
    }
    return held;
  }

  private static ReportReply reply(Formation f, Node n) {
    List<PeerInfo> peers = f.nodes.values().stream().filter(p -> p.id != n.id)
        .map(p -> new PeerInfo(p.id, p.name, p.address, p.keeperApi, p.goal.state(), p.settings)).toList();
    return new ReportReply(f.name, n.goal, f.term, 1, null, 0, null, null, "", peers, n.settings, f.settings);
  }

  /** Test hook: the controller decides a new goal for one node; held long-polls answer at once. */
  synchronized TermSeq setGoal(String formation, int nodeId, NodeState state) {
    Formation f = formation(formation);
    Node n = node(f, nodeId);
    TermSeq stamp = f.nextStamp();
    n.goal = new Goal(nodeId, state, stamp);
    journal(f.name, "formation|" + f.name, new FormationEvent.Decided(stamp, List.of(n.goal), "test", "set by a test",
        DecisionInputs.none("operator"), Requester.CONTROLLER, now()));
    version.incrementAndGet();
    List<CompletableFuture<ReportReply>> woken = new ArrayList<>(n.waiters);
    n.waiters.clear();
    ReportReply r = reply(f, n);
    woken.forEach(w -> w.complete(r));
    return stamp;
  }

  /** Test hook: an operation reaches its end. */
  synchronized void finishOperation(String formation, String id, String status) {
    Formation f = formation(formation);
    Dto.Operation o = f.operations.get(id);
    Dto.Operation done = new Dto.Operation(o.id(), o.formation(), o.kind(), o.node(), status, status, o.by(),
        o.createdAt(), now(), o.stamp());
    f.operations.put(id, done);
    f.byKey.replaceAll((k, v) -> v.id().equals(id) ? done : v);
    version.incrementAndGet();
  }

  @Override
  public synchronized CompletionStage<Dto.FormationState> state(String formation) {
    return attempt(() -> {
      Formation f = formation(formation);
      Integer primary = f.nodes.values().stream().filter(n -> n.goal.state().canTakeWrites()).map(n -> n.id)
          .findFirst().orElse(null);
      List<Dto.NodeView> views = f.nodes.values().stream().map(n -> new Dto.NodeView(n.id, n.name, n.address.host(),
          n.address.port(), n.last == null ? NodeState.INIT : n.last.state(), n.goal.state(), n.goal.stamp(),
          n.last == null ? 0 : n.last.timeline(), n.last == null ? Lsn.ZERO : n.last.lsn(),
          n.last == null ? PgStatus.STOPPED : n.last.pg(), n.last == null ? "unknown" : "good",
          n.lastReportAt == null ? null : now() - n.lastReportAt, n.settings.candidatePriority(),
          n.settings.replicationQuorum())).toList();
      return new Dto.FormationState(f.name, f.term, f.settings, primary, primary != null, "", views, null);
    });
  }

  @Override
  public synchronized CompletionStage<Dto.Uris> uris(String formation) {
    return attempt(() -> {
      Formation f = formation(formation);
      String hosts = f.nodes.values().stream().map(n -> n.address.toString()).collect(Collectors.joining(","));
      return new Dto.Uris(f.name, "postgres://" + hosts + "/" + f.settings.dbname() + "?target_session_attrs=read-write",
          "jdbc:postgresql://" + hosts + "/" + f.settings.dbname() + "?targetServerType=primary");
    });
  }

  @Override
  public synchronized CompletionStage<Dto.Settings> settings(String formation) {
    return attempt(() -> {
      Formation f = formation(formation);
      return new Dto.Settings(f.name, f.settings, "", f.nodes.values().stream()
          .map(n -> new Dto.NodeSettingsView(n.id, n.name, n.settings.candidatePriority(), n.settings.replicationQuorum()))
          .toList());
    });
  }

  @Override
  public synchronized CompletionStage<Dto.EventPage> events(String formation, Long before, Long sinceMillis, int limit) {
    return attempt(() -> {
      formation(formation);
      List<Dto.EventView> out = new ArrayList<>();
      Long next = null;
      for (int i = journal.size() - 1; i >= 0; i--) {
        Stored s = journal.get(i);
        if (!s.formation().equals(formation)) continue;
        if (before != null && s.view().ordering() >= before) continue;
        if (sinceMillis != null && s.view().at() < sinceMillis) continue;
        if (out.size() == limit) {
          next = out.get(out.size() - 1).ordering();
          break;
        }
        out.add(s.view());
      }
      return new Dto.EventPage(out, next);
    });
  }

  private synchronized List<Dto.EventView> after(String formation, long ordering) {
    List<Dto.EventView> out = new ArrayList<>();
    for (Stored s : journal) {
      if (s.view().ordering() > ordering && s.formation().equals(formation)) out.add(s.view());
    }
    return out;
  }

  @Override
  public Source<Dto.EventView, NotUsed> liveEvents(String formation, long afterOrdering) {
    return Source.tick(Duration.ZERO, Duration.ofMillis(20), "tick")
        .mapMaterializedValue(c -> NotUsed.notUsed())
        .statefulMap(() -> afterOrdering, (cursor, tick) -> {
          List<Dto.EventView> fresh = after(formation, cursor);
          long next = fresh.isEmpty() ? cursor : fresh.get(fresh.size() - 1).ordering();
          return Pair.create(next, fresh);
        }, cursor -> Optional.empty())
        .mapConcat(list -> list);
  }

  @Override
  public synchronized CompletionStage<Dto.Operation> perform(String formation, Dto.OperatorRequest req, Requester by) {
    return attempt(() -> {
      Formation f = formation(formation);
      String key = req.idempotencyKey();
      if (key != null && !key.isEmpty() && f.byKey.containsKey(key)) {
        Dto.Operation earlier = f.byKey.get(key);
        if (earlier.kind().equals(req.kind()) && java.util.Objects.equals(earlier.node(), req.node())) return earlier;
        throw ApiException.conflict("idempotency key '" + key + "' was used for another request");
      }
      String status = "succeeded";
      String target = null;
      switch (req.kind()) {
        case "failover", "switchover" -> {
          if (f.nodes.size() < 2) throw ApiException.conflict("a " + req.kind() + " needs at least two nodes");
          status = "accepted";
        }
        case "promotion", "maintenance-on", "maintenance-off" -> {
          target = nodeNamed(f, req.node()).name;
          status = "accepted";
        }
        case "drop-node" -> {
          Node n = nodeNamed(f, req.node());
          target = n.name;
          f.nodes.remove(n.id);
          journal(f.name, "formation|" + f.name, new FormationEvent.NodeRemoved(n.id, "dropped by operator", by, now()));
        }
        case "set-candidate-priority" -> {
          Node n = nodeNamed(f, req.node());
          target = n.name;
          long v = required(req.value());
          if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) throw new IllegalArgumentException("priority out of range: " + v);
          n.settings = n.settings.withPriority((int) v);
          journal(f.name, "node|" + f.name + "|" + n.id, new NodeEvent.SettingsChanged(n.settings, by, now()));
        }
        case "set-replication-quorum" -> {
          Node n = nodeNamed(f, req.node());
          target = n.name;
          long v = required(req.value());
          if (v != 0 && v != 1) throw ApiException.badRequest("replication quorum is 0 or 1, got " + v);
          n.settings = n.settings.withQuorum(v == 1);
          journal(f.name, "node|" + f.name + "|" + n.id, new NodeEvent.SettingsChanged(n.settings, by, now()));
        }
        case "set-number-sync-standbys" -> {
          long v = required(req.value());
          if (v > Integer.MAX_VALUE) throw new IllegalArgumentException("number_sync_standbys out of range: " + v);
          f.settings = f.settings.withNumberSyncStandbys((int) v);
          journal(f.name, "formation|" + f.name, new FormationEvent.FormationSettingsChanged(f.settings, by, now()));
        }
        case "set-failover-data-loss-allowed" -> {
          f.settings = f.settings.withFailoverDataLossAllowed(required(req.value()));
          journal(f.name, "formation|" + f.name, new FormationEvent.FormationSettingsChanged(f.settings, by, now()));
        }
        default -> throw ApiException.badRequest("unknown action kind '" + req.kind() + "'");
      }
      long at = now();
      Dto.Operation op = new Dto.Operation("op-" + (++operationCounter), f.name, req.kind(), target, status,
          status.equals("accepted") ? "queued" : "done", by, at, at, new TermSeq(f.term, f.seq));
      f.operations.put(op.id(), op);
      if (key != null && !key.isEmpty()) f.byKey.put(key, op);
      version.incrementAndGet();
      return op;
    });
  }

  private static long required(Long value) {
    if (value == null) throw ApiException.badRequest("this action needs a value");
    return value;
  }

  @Override
  public synchronized CompletionStage<Dto.Operation> operation(String formation, String operationId) {
    return attempt(() -> {
      Dto.Operation o = formation(formation).operations.get(operationId);
      if (o == null) throw ApiException.notFound("no operation '" + operationId + "'");
      return o;
    });
  }

  @Override
  public synchronized Optional<Principal.Node> nodeByCredentialHash(String sha256Hex) {
    for (Formation f : formations.values()) {
      for (Node n : f.nodes.values()) {
        if (Credentials.sameHash(n.credentialHash, sha256Hex)) return Optional.of(new Principal.Node(f.name, n.id));
      }
    }
    return Optional.empty();
  }

  @Override
  public synchronized String metrics() {
    return "# HELP pgwarden_formations Formations this controller runs.\n# TYPE pgwarden_formations gauge\n"
        + "pgwarden_formations " + formations.size() + "\n";
  }

  @Override
  public java.util.concurrent.CompletionStage<Object> audit(String formation, Long since, Long until, Long at) {
    return java.util.concurrent.CompletableFuture.failedFuture(ApiException.notFound("no audit in this fake"));
  }

  @Override
  public java.util.concurrent.CompletionStage<String> timelinePage(String formation, Long since, Long until) {
    return java.util.concurrent.CompletableFuture.failedFuture(ApiException.notFound("no timeline in this fake"));
  }

  @Override
  public boolean ready() {
    return ready;
  }
}
