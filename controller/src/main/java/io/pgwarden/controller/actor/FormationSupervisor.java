package io.pgwarden.controller.actor;

import io.pgwarden.api.ApiException;
import io.pgwarden.controller.core.DecisionCore;
import io.pgwarden.controller.core.Formation;
import io.pgwarden.controller.core.Input;
import io.pgwarden.controller.core.Member;
import io.pgwarden.controller.core.Now;
import io.pgwarden.controller.core.Observations;
import io.pgwarden.controller.core.Outcome;
import io.pgwarden.model.FormationEvent;
import io.pgwarden.model.NodeReport;
import io.pgwarden.model.ReportReply;
import io.pgwarden.model.TermSeq;
import io.pgwarden.model.Timing;
import io.pgwarden.node.NodeActor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;
import org.slf4j.Logger;

/**
 * One formation's supervisor: the single source of its goals and terms. It hands every message to the
 * pure {@link DecisionCore}, journals what the core decided (all events of one input in one atomic
 * write) and only then lets any reply leave. Heartbeats (reports, probes, ticks) live in memory;
 * keepers waiting on a long-poll are answered the moment their goal changes.
 */
public final class FormationSupervisor
    extends EventSourcedBehavior<FormationSupervisor.Command, FormationEvent, Formation> {

  public sealed interface Command {}

  /** Any input of the core; {@code replyTo} gets the core's reply (a value or an ApiException). */
  public record Apply(Input input, ActorRef<Object> replyTo) implements Command {}

  /** A keeper's report; held up to {@code waitMs} while the node's goal is not newer than {@code known}. */
  public record Report(int nodeId, NodeReport report, TermSeq known, long waitMs, ActorRef<Object> replyTo)
      implements Command {}

  /** A consistent snapshot for read-only views (state, URIs, settings, metrics). */
  public record View(ActorRef<Snapshot> replyTo) implements Command {}

  public record Snapshot(Formation formation, Observations observations, Now now, Timing timing) {}

  private record Tick() implements Command {}

  private record ProbeRound() implements Command {}

  private record ProbeDone(int nodeId, NodeProbe.Result result) implements Command {}

  private record PollExpired(long id) implements Command {}

  private record Poll(int nodeId, ActorRef<Object> replyTo) {}

  /** What every supervisor shares: settings, clock, probe, where credentials and metrics go. */
  public record Deps(Timing timing, ControllerClock clock, long epoch, NodeProbe probe, Executor probeExecutor,
      CredentialIndex credentials, ControllerMetrics metrics, ActorRef<FormationRegistry.Command> registry) {
    public Deps(Timing timing, ControllerClock clock, long epoch, NodeProbe probe, Executor probeExecutor,
        CredentialIndex credentials, ControllerMetrics metrics) {
      this(timing, clock, epoch, probe, probeExecutor, credentials, metrics, null);
    }

    Deps withRegistry(ActorRef<FormationRegistry.Command> r) {
      return new Deps(timing, clock, epoch, probe, probeExecutor, credentials, metrics, r);
    }
  }

  public static String persistenceId(String formation) {
    return "formation|" + formation;
  }

  public static Behavior<Command> create(String formation, Deps deps) {
    return Behaviors.withTimers(timers -> Behaviors.setup(ctx -> new FormationSupervisor(formation, deps, ctx, timers)));
  }

  private final String name;
  private final Deps deps;
  private final DecisionCore core;
  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final Logger log;
  private Observations obs;
  private final Map<Long, Poll> polls = new TreeMap<>();
  private long nextPoll = 1;
  private final Map<Integer, ActorRef<NodeActor.Command>> nodeActors = new TreeMap<>();
  private final Set<Integer> probing = new java.util.TreeSet<>();
  private final DecisionTap tap;

  private FormationSupervisor(String name, Deps deps, ActorContext<Command> ctx, TimerScheduler<Command> timers) {
    super(PersistenceId.ofUniqueId(persistenceId(name)),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.2));
    this.name = name;
    this.deps = deps;
    this.core = new DecisionCore(deps.timing());
    this.ctx = ctx;
    this.timers = timers;
    this.log = ctx.getLog();
    this.obs = Observations.boot(deps.epoch(), deps.clock().now().mono());
    this.tap = DecisionTap.forFormation(name);
  }

  @Override
  public Formation emptyState() {
    return Formation.empty(name);
  }

  @Override
  public Set<String> tagsFor(FormationEvent event) {
    return Set.of(NodeActor.tag(name));
  }

  @Override
  public SignalHandler<Formation> signalHandler() {
    return newSignalHandlerBuilder().onSignal(RecoveryCompleted.instance(), this::recovered).build();
  }

  private void recovered(Formation f) {
    long bootMono = deps.clock().now().mono();
    obs = Observations.boot(deps.epoch(), bootMono);
    tap.restart(deps.epoch(), bootMono, lastSequenceNumber(ctx), deps.timing());
    for (Member m : f.members().values()) {
      deps.credentials().put(m.credentialHash(), name, m.nodeId());
      nodeActor(m.nodeId());
    }
    log.info("formation {}: recovered at term {} seq {}, {} node(s); epoch {}", name, f.term(), f.seq(),
        f.members().size(), deps.epoch());
    ctx.getSelf().tell(new Apply(new Input.Start(f.exists()), null));
    timers.startTimerAtFixedRate("tick", new Tick(), Duration.ofMillis(deps.timing().tickMs()));
    timers.startTimerAtFixedRate("probe", new ProbeRound(), Duration.ofMillis(deps.timing().probeIntervalMs()));
  }

  @Override
  public CommandHandler<Command, FormationEvent, Formation> commandHandler() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(Apply.class, (f, c) -> {
          if (c.input() instanceof Input.Start && deps.registry() != null) {
            return run(f, c.input(), null, (after, reply) -> deps.registry().tell(new FormationRegistry.Started(name)));
          }
          return run(f, c.input(), c.replyTo(), null);
        })
        .onCommand(Report.class, this::onReport)
        .onCommand(Tick.class, (f, c) -> run(f, new Input.Tick(), null, null))
        .onCommand(ProbeRound.class, this::probeRound)
        .onCommand(ProbeDone.class, (f, c) -> {
          probing.remove(c.nodeId());
          return run(f, new Input.Probe(c.nodeId(), c.result().ok(), c.result().detail()), null, null);
        })
        .onCommand(PollExpired.class, (f, c) -> {
          Poll p = polls.remove(c.id());
          if (p != null) answerPoll(f, p);
          return Effect().none();
        })
        .onCommand(View.class, (f, c) -> Effect().reply(c.replyTo(),
            new Snapshot(f, obs, deps.clock().now(), deps.timing())))
        .build();
  }

  @Override
  public EventHandler<Formation, FormationEvent> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(Formation::apply);
  }

  // ------------------------------------------------------------------ the one path every input takes

  private Effect<FormationEvent, Formation> onReport(Formation f, Report c) {
    long started = System.nanoTime();
    return run(f, new Input.Report(c.nodeId(), c.report()), null, (after, reply) -> {
      deps.metrics().reportHandled(System.nanoTime() - started);
      // the answer that confirms a drop is final (the node is gone right after it): never held
      boolean hold = reply instanceof ReportReply rr && c.waitMs() > 0 && c.known() != null
          && !rr.goal().stamp().isNewerThan(c.known()) && rr.goal().state() != io.pgwarden.model.NodeState.DROPPED;
      if (!hold) {
        c.replyTo().tell(reply);
        return;
      }
      long id = nextPoll++;
      polls.put(id, new Poll(c.nodeId(), c.replyTo()));
      timers.startSingleTimer(id, new PollExpired(id), Duration.ofMillis(c.waitMs()));
    });
  }

  private interface AfterPersist {
    void run(Formation after, Object reply);
  }

  private Effect<FormationEvent, Formation> run(Formation f, Input input, ActorRef<Object> replyTo,
      AfterPersist then) {
    Outcome o;
    Now now = deps.clock().now();
    try {
      o = core.handle(new DecisionCore.State(f, obs), input, now);
    } catch (RuntimeException e) {
      // A bug in the core: the input is refused and nothing changes; the supervisor keeps running.
      String ref = java.util.UUID.randomUUID().toString().substring(0, 8);
      log.error("formation {}: internal error {} while handling {}; nothing changed", name, ref,
          input.getClass().getSimpleName(), e);
      ApiException err = new ApiException(500, "internal", "internal error " + ref
          + " (the controller log has the details)");
      if (replyTo != null) replyTo.tell(err);
      if (then != null) then.run(f, err);
      return Effect().none();
    }
    obs = o.observations();
    List<FormationEvent> events = o.events();
    tap.input(now, input, events);
    if (events.isEmpty()) {
      afterPersist(f, f, o, replyTo, then);
      return Effect().none();
    }
    for (FormationEvent e : events) logEvent(e);
    return Effect().persist(events).thenRun(after -> afterPersist(f, after, o, replyTo, then));
  }

  private void afterPersist(Formation before, Formation after, Outcome o, ActorRef<Object> replyTo,
      AfterPersist then) {
    for (FormationEvent e : o.events()) {
      if (e instanceof FormationEvent.NodeRegistered r) {
        deps.credentials().put(r.credentialHash(), name, r.nodeId());
      } else if (e instanceof FormationEvent.NodeRemoved r) {
        before.member(r.nodeId()).ifPresent(m -> deps.credentials().remove(m.credentialHash()));
      } else if (e instanceof FormationEvent.Decided d) {
        deps.metrics().decided(name, d);
      }
    }
    for (Outcome.NodeNote n : o.nodeNotes()) nodeActor(n.nodeId()).tell(new NodeActor.Observe(n.event()));
    if (replyTo != null) replyTo.tell(o.reply());
    if (then != null) then.run(after, o.reply());
    Set<Integer> wake = new java.util.TreeSet<>(o.goalsChanged());
    for (FormationEvent e : o.events()) {
      if (e instanceof FormationEvent.NodeRemoved r) wake.add(r.nodeId()); // its held report ends now
    }
    if (!wake.isEmpty()) {
      List<Long> woken = new ArrayList<>();
      for (var e : polls.entrySet()) {
        if (wake.contains(e.getValue().nodeId())) woken.add(e.getKey());
      }
      for (long id : woken) {
        timers.cancel(id);
        answerPoll(after, polls.remove(id));
      }
    }
    if (o.wakeAtMono() > 0) {
      long delay = Math.max(1, o.wakeAtMono() - deps.clock().now().mono());
      timers.startSingleTimer("wake", new Tick(), Duration.ofMillis(delay));
    }
  }

  /** A held report is answered with the goal, lease and permit as they are now. */
  private void answerPoll(Formation f, Poll p) {
    Object reply;
    try {
      Now now = deps.clock().now();
      tap.reply(now, p.nodeId());
      Outcome o = core.reply(new DecisionCore.State(f, obs), p.nodeId(), now);
      obs = o.observations();
      reply = o.reply();
    } catch (ApiException e) {
      reply = e; // the node was removed while its report was held: the keeper is told so
    } catch (RuntimeException e) {
      String ref = java.util.UUID.randomUUID().toString().substring(0, 8);
      log.error("formation {}: internal error {} while answering node {}'s held report", name, ref, p.nodeId(), e);
      reply = new ApiException(500, "internal", "internal error " + ref + " (the controller log has the details)");
    }
    p.replyTo().tell(reply);
  }

  private void logEvent(FormationEvent e) {
    if (e instanceof FormationEvent.Decided d) {
      log.info("formation {} term {} seq {}: {} -> {} ({})", name, d.stamp().term(), d.stamp().seq(), d.rule(),
          d.goals().stream().map(g -> g.nodeId() + ":" + g.state()).toList(), d.reason());
    } else if (!(e instanceof FormationEvent.QuorumConfirmed)) {
      log.info("formation {}: {}", name, e);
    }
  }

  // ------------------------------------------------------------------ probes

  private Effect<FormationEvent, Formation> probeRound(Formation f, ProbeRound c) {
    Duration timeout = Duration.ofMillis(deps.timing().probeTimeoutMs());
    for (Member m : f.members().values()) {
      if (!probing.add(m.nodeId())) continue; // the previous probe of this node has not answered yet
      CompletableFuture<NodeProbe.Result> r = CompletableFuture.supplyAsync(
          () -> deps.probe().probe(m.address(), timeout), deps.probeExecutor());
      ctx.pipeToSelf(r, (ok, err) -> new ProbeDone(m.nodeId(), ok != null ? ok
          : new NodeProbe.Result(false, String.valueOf(err))));
    }
    return Effect().none();
  }

  private ActorRef<NodeActor.Command> nodeActor(int nodeId) {
    return nodeActors.computeIfAbsent(nodeId, id -> ctx.spawn(NodeActor.create(name, id), "node-" + id));
  }
}
