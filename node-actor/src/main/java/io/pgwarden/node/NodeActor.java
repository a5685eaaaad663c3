package io.pgwarden.node;

import io.pgwarden.model.NodeEvent;
import io.pgwarden.model.NodeSettings;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.TermSeq;
import java.util.Objects;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;

/**
 * One node's own lifecycle, journaled: registered, each state it reached, health flips, settings,
 * rewinds, report anomalies, fencing, drop. It is told facts by its formation's supervisor and writes
 * an event only when the fact changes what it knows: a report that changes nothing writes nothing.
 */
public final class NodeActor extends EventSourcedBehavior<NodeActor.Command, NodeEvent, NodeActor.State> {

  public sealed interface Command {}

  /** A fact the supervisor observed; journaled if it is news. */
  public record Observe(NodeEvent fact) implements Command {}

  public record Get(ActorRef<State> replyTo) implements Command {}

  /** What the journal says of the node so far. */
  public record State(boolean registered, NodeState reached, TermSeq reachedStamp, Boolean healthy,
      NodeSettings settings, TermSeq lastRewind, long fencedTerm, boolean dropped, long events) {
    static final State EMPTY = new State(false, null, null, null, null, null, 0, false, 0);

    /** True when journaling {@code e} would tell something the journal does not already say. */
    boolean isNews(NodeEvent e) {
      if (e instanceof NodeEvent.Registered) return !registered;
      if (e instanceof NodeEvent.StateReached r) return r.state() != reached;
      if (e instanceof NodeEvent.HealthChanged h) return !Objects.equals(healthy, h.healthy());
      if (e instanceof NodeEvent.SettingsChanged s) return !s.settings().equals(settings);
      if (e instanceof NodeEvent.Rewound r) return !r.rejoin().stamp().equals(lastRewind);
      if (e instanceof NodeEvent.Fenced f) return f.term() != fencedTerm;
      if (e instanceof NodeEvent.Dropped) return !dropped;
      return true; // report anomalies: the supervisor already sends each one once
    }

    State apply(NodeEvent e) {
      long n = events + 1;
      if (e instanceof NodeEvent.Registered r) {
        return new State(true, reached, reachedStamp, healthy, r.settings(), lastRewind, fencedTerm, dropped, n);
      }
      if (e instanceof NodeEvent.StateReached r) {
        return new State(registered, r.state(), r.stamp(), healthy, settings, lastRewind, fencedTerm, dropped, n);
      }
      if (e instanceof NodeEvent.HealthChanged h) {
        return new State(registered, reached, reachedStamp, h.healthy(), settings, lastRewind, fencedTerm, dropped, n);
      }
      if (e instanceof NodeEvent.SettingsChanged s) {
        return new State(registered, reached, reachedStamp, healthy, s.settings(), lastRewind, fencedTerm, dropped, n);
      }
      if (e instanceof NodeEvent.Rewound r) {
        return new State(registered, reached, reachedStamp, healthy, settings, r.rejoin().stamp(), fencedTerm, dropped,
            n);
      }
      if (e instanceof NodeEvent.Fenced f) {
        return new State(registered, reached, reachedStamp, healthy, settings, lastRewind, f.term(), dropped, n);
      }
      if (e instanceof NodeEvent.Dropped) {
        return new State(registered, reached, reachedStamp, healthy, settings, lastRewind, fencedTerm, true, n);
      }
      return new State(registered, reached, reachedStamp, healthy, settings, lastRewind, fencedTerm, dropped, n);
    }
  }

  public static String persistenceId(String formation, int nodeId) {
    return "node|" + formation + "|" + nodeId;
  }

  public static String tag(String formation) {
    return "formation:" + formation;
  }

  public static Behavior<Command> create(String formation, int nodeId) {
    return new NodeActor(formation, nodeId);
  }

  private final String formation;

  private NodeActor(String formation, int nodeId) {
    // a journal failure restarts the actor from its journal instead of stopping it for good
    super(PersistenceId.ofUniqueId(persistenceId(formation, nodeId)),
        org.apache.pekko.actor.typed.SupervisorStrategy.restartWithBackoff(java.time.Duration.ofMillis(200),
            java.time.Duration.ofSeconds(5), 0.2));
    this.formation = formation;
  }

  @Override
  public State emptyState() {
    return State.EMPTY;
  }

  @Override
  public Set<String> tagsFor(NodeEvent event) {
    return Set.of(tag(formation));
  }

  @Override
  public CommandHandler<Command, NodeEvent, State> commandHandler() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(Observe.class, (s, c) -> s.isNews(c.fact()) ? Effect().persist(c.fact()) : Effect().none())
        .onCommand(Get.class, (s, c) -> Effect().reply(c.replyTo(), s))
        .build();
  }

  @Override
  public EventHandler<State, NodeEvent> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(State::apply);
  }
}
