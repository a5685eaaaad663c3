package io.pgwarden.controller.actor;

import io.pgwarden.api.ApiException;
import io.pgwarden.api.ControllerService;
import io.pgwarden.api.Dto;
import io.pgwarden.api.Principal;
import io.pgwarden.controller.core.Formation;
import io.pgwarden.controller.core.Input;
import io.pgwarden.model.FormationSettings;
import io.pgwarden.model.NodeReport;
import io.pgwarden.model.ReportReply;
import io.pgwarden.model.Requester;
import io.pgwarden.model.TermSeq;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.regex.Pattern;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.stream.javadsl.Source;

/** The controller behind the HTTP routes: every call becomes a message to a formation's supervisor. */
public final class ControllerServiceImpl implements ControllerService {
  public static final Pattern FORMATION_NAME = Pattern.compile("[a-z][a-z0-9_-]{0,62}");
  static final Duration ASK = Duration.ofSeconds(15);

  private final ActorSystem<?> system;
  private final ActorRef<FormationRegistry.Command> registry;
  private final CredentialIndex credentials;
  private final ControllerMetrics metrics;
  private final EventReader events;

  /** Where /events reads the journal from; wired by the controller's main. */
  public interface EventReader {
    CompletionStage<Dto.EventPage> page(String formation, Long before, Long sinceMillis, int limit);

    Source<Dto.EventView, NotUsed> live(String formation, long afterOrdering);

    /** Every event of the formation and of its nodes, each stream in sequence order (for the audit). */
    CompletionStage<List<io.pgwarden.controller.audit.RecordedEvent>> journal(String formation);
  }

  public ControllerServiceImpl(ActorSystem<?> system, ActorRef<FormationRegistry.Command> registry,
      CredentialIndex credentials, ControllerMetrics metrics, EventReader events) {
    this.system = system;
    this.registry = registry;
    this.credentials = credentials;
    this.metrics = metrics;
    this.events = events;
  }

  // ------------------------------------------------------------------ formations

  @Override
  public CompletionStage<Dto.FormationSummary> createFormation(Dto.CreateFormation r, Requester by) {
    if (r == null || r.name() == null || !FORMATION_NAME.matcher(r.name()).matches()) {
      return failed(ApiException.badRequest("formation name must match " + FORMATION_NAME.pattern()));
    }
    FormationSettings settings;
    try {
      settings = new FormationSettings(r.dbname() == null ? "postgres" : r.dbname(),
          r.numberSyncStandbys() == null ? 0 : r.numberSyncStandbys(),
          r.failoverDataLossAllowed() == null ? 0 : r.failoverDataLossAllowed());
    } catch (IllegalArgumentException e) {
      return failed(ApiException.badRequest(e.getMessage()));
    }
    CompletionStage<ActorRef<FormationSupervisor.Command>> sup =
        Asks.plain(AskPattern.ask(registry, reply -> new FormationRegistry.Ensure(r.name(), reply), ASK, system.scheduler()));
    return sup.thenCompose(s -> apply(s, new Input.CreateFormation(settings, by)))
        .thenApply(o -> Views.summary((Formation) o));
  }

  @Override
  public CompletionStage<List<Dto.FormationSummary>> formations() {
    CompletionStage<Map<String, ActorRef<FormationSupervisor.Command>>> all =
        Asks.plain(AskPattern.ask(registry, FormationRegistry.All::new, ASK, system.scheduler()));
    return all.thenCompose(m -> {
      List<CompletableFuture<FormationSupervisor.Snapshot>> views = new ArrayList<>();
      for (var s : m.values()) views.add(view(s).toCompletableFuture());
      return CompletableFuture.allOf(views.toArray(CompletableFuture[]::new)).thenApply(v -> views.stream()
          .map(CompletableFuture::join).map(FormationSupervisor.Snapshot::formation)
          .filter(f -> f.exists() && !f.dropped()).map(Views::summary).toList());
    });
  }

  @Override
  public CompletionStage<Void> dropFormation(String formation, Requester by) {
    return supervisor(formation).thenCompose(s -> apply(s, new Input.DropFormation(by))).thenApply(o -> null);
  }

  // ------------------------------------------------------------------ nodes

  @Override
  public CompletionStage<Dto.Registration> register(String formation, Dto.RegisterNode request) {
    if (request == null) return failed(ApiException.badRequest("missing registration body"));
    String credential = io.pgwarden.api.Credentials.newNodeCredential();
    String hash = io.pgwarden.api.Credentials.sha256Hex(credential);
    return supervisor(formation).thenCompose(s -> apply(s, new Input.Register(request, hash)))
        .thenApply(o -> {
          Dto.Registration r = (Dto.Registration) o;
          return new Dto.Registration(r.nodeId(), r.name(), credential, r.goal(), r.settings(), r.formationSettings(),
              r.term(), r.timing());
        });
  }

  @Override
  public CompletionStage<ReportReply> report(String formation, int nodeId, NodeReport report, TermSeq knownGoal,
      Duration wait) {
    if (report == null || report.state() == null || report.pg() == null) {
      return failed(ApiException.badRequest("a report needs at least state and pg"));
    }
    long waitMs = wait == null ? 0 : Math.max(0, Math.min(wait.toMillis(), 10_000));
    ReportTrace.INSTANCE.received(formation, nodeId, report, knownGoal, waitMs);
    return supervisor(formation).thenCompose(s -> {
      CompletionStage<Object> r = Asks.plain(AskPattern.ask(s,
          reply -> new FormationSupervisor.Report(nodeId, report, knownGoal, waitMs, reply),
          ASK.plusMillis(waitMs), system.scheduler()));
      return r.thenCompose(ControllerServiceImpl::unwrap);
    }).thenApply(o -> {
      ReportReply rr = (ReportReply) o;
      if (rr.lease() != null) metrics.leaseGranted();
      ReportTrace.INSTANCE.answered(formation, nodeId, rr);
      return rr;
    });
  }

  // ------------------------------------------------------------------ views

  @Override
  public CompletionStage<Dto.FormationState> state(String formation) {
    return existing(formation).thenApply(Views::state);
  }

  @Override
  public CompletionStage<Dto.Uris> uris(String formation) {
    return existing(formation).thenApply(s -> Views.uris(s.formation()));
  }

  @Override
  public CompletionStage<Dto.Settings> settings(String formation) {
    return existing(formation).thenApply(Views::settings);
  }

  @Override
  public CompletionStage<Dto.EventPage> events(String formation, Long before, Long sinceMillis, int limit) {
    return existing(formation).thenCompose(s -> events.page(formation, before, sinceMillis, limit));
  }

  @Override
  public Source<Dto.EventView, NotUsed> liveEvents(String formation, long afterOrdering) {
    return events.live(formation, afterOrdering);
  }

  // ------------------------------------------------------------------ operator actions

  @Override
  public CompletionStage<Dto.Operation> perform(String formation, Dto.OperatorRequest request, Requester by) {
    if (request == null) return failed(ApiException.badRequest("missing action body"));
    // Operations are recorded (and found again by GET .../operations/{id}) by their idempotency key: an
    // action sent without one gets a key made here, so that the Location it is answered with resolves.
    Dto.OperatorRequest req = request;
    Requester who = by;
    if (by == null || by.idempotencyKey() == null || by.idempotencyKey().isEmpty()) {
      String key = "auto-" + java.util.UUID.randomUUID();
      who = new Requester(by == null ? "unknown" : by.who(), by == null ? "" : by.reason(), key);
      req = new Dto.OperatorRequest(request.kind(), request.node(), request.allowFailover(), request.force(),
          request.value(), request.reason(), key);
    }
    Input.Operator input = new Input.Operator(req, who);
    return supervisor(formation).thenCompose(s -> apply(s, input)).thenApply(o -> (Dto.Operation) o);
  }

  @Override
  public CompletionStage<Dto.Operation> operation(String formation, String operationId) {
    return existing(formation).thenApply(s -> {
      for (var rec : s.formation().operations().values()) {
        if (rec.id().equals(operationId)) {
          return io.pgwarden.controller.core.OperationStatus.view(s.formation(), s.observations(), s.timing(),
              s.now(), rec);
        }
      }
      throw ApiException.notFound("no operation " + operationId + " in formation '" + formation + "'");
    });
  }

  @Override
  public CompletionStage<Object> audit(String formation, Long since, Long until, Long at) {
    return report(formation, since, until, at).thenApply(r -> (Object) r);
  }

  @Override
  public CompletionStage<String> timelinePage(String formation, Long since, Long until) {
    return report(formation, since, until, null).thenApply(io.pgwarden.controller.audit.TimelinePage::render);
  }

  private CompletionStage<io.pgwarden.controller.audit.AuditReport> report(String formation, Long since, Long until,
      Long at) {
    return existing(formation).thenCompose(s -> events.journal(formation).thenApply(j ->
        io.pgwarden.controller.audit.AuditReplay.replay(formation, j, io.pgwarden.controller.audit.AuditQuery.all()
            .since(since).until(until).at(at).now(s.now().wall()).timing(s.timing()))));
  }

  @Override
  public Optional<Principal.Node> nodeByCredentialHash(String sha256Hex) {
    return credentials.find(sha256Hex);
  }

  @Override
  public String metrics() {
    try {
      Map<String, ActorRef<FormationSupervisor.Command>> all = AskPattern.<FormationRegistry.Command,
          Map<String, ActorRef<FormationSupervisor.Command>>>ask(registry, FormationRegistry.All::new, ASK,
          system.scheduler()).toCompletableFuture().get();
      List<FormationSupervisor.Snapshot> snaps = new ArrayList<>();
      for (var s : all.values()) snaps.add(view(s).toCompletableFuture().get());
      return metrics.render(snaps.stream().filter(x -> x.formation().exists()).toList());
    } catch (Exception e) {
      throw ApiException.unavailable("metrics unavailable: " + e.getMessage());
    }
  }

  @Override
  public boolean ready() {
    try {
      return AskPattern.<FormationRegistry.Command, Boolean>ask(registry, FormationRegistry.IsReady::new,
          Duration.ofSeconds(2), system.scheduler()).toCompletableFuture().get();
    } catch (Exception e) {
      return false;
    }
  }

  // ------------------------------------------------------------------ helpers

  private CompletionStage<ActorRef<FormationSupervisor.Command>> supervisor(String formation) {
    if (formation == null || !FORMATION_NAME.matcher(formation).matches()) {
      return failed(ApiException.notFound("formation '" + formation + "' does not exist"));
    }
    CompletionStage<Optional<ActorRef<FormationSupervisor.Command>>> r =
        Asks.plain(AskPattern.ask(registry, reply -> new FormationRegistry.Lookup(formation, reply), ASK, system.scheduler()));
    return r.thenCompose(o -> o.<CompletionStage<ActorRef<FormationSupervisor.Command>>>map(
        CompletableFuture::completedFuture).orElseGet(
        () -> failed(ApiException.notFound("formation '" + formation + "' does not exist"))));
  }

  private CompletionStage<FormationSupervisor.Snapshot> existing(String formation) {
    return supervisor(formation).thenCompose(this::view).thenApply(s -> {
      if (!s.formation().exists() || s.formation().dropped()) {
        throw ApiException.notFound("formation '" + formation + "' does not exist");
      }
      return s;
    });
  }

  private CompletionStage<FormationSupervisor.Snapshot> view(ActorRef<FormationSupervisor.Command> s) {
    return Asks.plain(AskPattern.ask(s, FormationSupervisor.View::new, ASK, system.scheduler()));
  }

  private CompletionStage<Object> apply(ActorRef<FormationSupervisor.Command> s, Input input) {
    CompletionStage<Object> r = Asks.plain(AskPattern.ask(s, reply -> new FormationSupervisor.Apply(input, reply), ASK,
        system.scheduler()));
    return r.thenCompose(ControllerServiceImpl::unwrap);
  }

  private static CompletionStage<Object> unwrap(Object o) {
    if (o instanceof ApiException e) return CompletableFuture.failedFuture(e);
    return CompletableFuture.completedFuture(o);
  }

  private static <T> CompletionStage<T> failed(Throwable t) {
    return CompletableFuture.failedFuture(t);
  }

  public static String sha256(String s) {
    return io.pgwarden.api.Credentials.sha256Hex(s);
  }
}
