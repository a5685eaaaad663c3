package io.pgwarden.controller.actor;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * Starts one supervisor per formation: at boot for every formation the journal knows (found by
 * persistence id), later for each one created. No passivation: a formation's supervisor runs as long
 * as the controller does.
 */
public final class FormationRegistry {
  public sealed interface Command {}

  /** The supervisor of {@code formation}, if the formation is known. */
  public record Lookup(String formation, ActorRef<Optional<ActorRef<FormationSupervisor.Command>>> replyTo)
      implements Command {}

  /** The supervisor of {@code formation}, started now if needed (for a formation being created). */
  public record Ensure(String formation, ActorRef<ActorRef<FormationSupervisor.Command>> replyTo) implements Command {}

  public record All(ActorRef<Map<String, ActorRef<FormationSupervisor.Command>>> replyTo) implements Command {}

  public record IsReady(ActorRef<Boolean> replyTo) implements Command {}

  private record Recovered(List<String> formations, Throwable failure) implements Command {}

  /** A supervisor has recovered its journal and started its incarnation (its term is raised). */
  public record Started(String formation) implements Command {}

  public static Behavior<Command> create(FormationSupervisor.Deps deps) {
    return Behaviors.setup(ctx -> new FormationRegistry(ctx, deps).start());
  }

  private FormationSupervisor.Deps depsFor() {
    return deps.withRegistry(ctx.getSelf());
  }

  private final ActorContext<Command> ctx;
  private final FormationSupervisor.Deps deps;
  private final Map<String, ActorRef<FormationSupervisor.Command>> supervisors = new TreeMap<>();
  private boolean recovered;
  private final java.util.Set<String> started = new java.util.TreeSet<>();

  private FormationRegistry(ActorContext<Command> ctx, FormationSupervisor.Deps deps) {
    this.ctx = ctx;
    this.deps = deps;
  }

  private Behavior<Command> start() {
    JdbcReadJournal rj = PersistenceQuery.get(ctx.getSystem())
        .getReadJournalFor(JdbcReadJournal.class, JdbcReadJournal.Identifier());
    Source<String, NotUsed> ids = rj.currentPersistenceIds();
    var done = ids.filter(id -> id.startsWith("formation|")).map(id -> id.substring("formation|".length()))
        .runWith(Sink.seq(), ctx.getSystem());
    ctx.pipeToSelf(done, Recovered::new);
    return Behaviors.receive(Command.class)
        .onMessage(Recovered.class, this::recovered)
        .onMessage(Lookup.class, c -> {
          c.replyTo().tell(Optional.ofNullable(supervisors.get(c.formation())));
          return Behaviors.same();
        })
        .onMessage(Ensure.class, c -> {
          c.replyTo().tell(supervisor(c.formation()));
          return Behaviors.same();
        })
        .onMessage(All.class, c -> {
          c.replyTo().tell(Map.copyOf(supervisors));
          return Behaviors.same();
        })
        .onMessage(IsReady.class, c -> {
          c.replyTo().tell(recovered && started.containsAll(supervisors.keySet()));
          return Behaviors.same();
        })
        .onMessage(Started.class, c -> {
          started.add(c.formation());
          return Behaviors.same();
        })
        .build();
  }

  private Behavior<Command> recovered(Recovered r) {
    if (r.failure() != null) {
      ctx.getLog().error("cannot list the formations in the journal: {}", r.failure().toString());
      throw new IllegalStateException("journal unreadable", r.failure());
    }
    for (String f : r.formations()) supervisor(f);
    recovered = true;
    ctx.getLog().info("controller ready: {} formation(s) {}", r.formations().size(), r.formations());
    return Behaviors.same();
  }

  private ActorRef<FormationSupervisor.Command> supervisor(String formation) {
    // A failure the supervisor does not handle itself restarts it from its journal (a new incarnation)
    // instead of leaving the formation without a supervisor until the controller restarts.
    return supervisors.computeIfAbsent(formation, f -> ctx.spawn(Behaviors.supervise(
        FormationSupervisor.create(f, depsFor())).onFailure(SupervisorStrategy.restartWithBackoff(
            java.time.Duration.ofMillis(200), java.time.Duration.ofSeconds(5), 0.2)), "formation-" + f));
  }
}
