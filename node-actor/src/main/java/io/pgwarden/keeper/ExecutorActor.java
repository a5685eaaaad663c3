package io.pgwarden.keeper;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the keeper's blocking work, one job at a time, in arrival order: transition segments (answered
 * with exactly one TransitionFinished) and the ensure actions (start, stop, peers). It is spawned on its
 * own dispatcher ({@link #DISPATCHER}, a dedicated thread configured in the actor system), so a base
 * backup, a checkpoint or a hung query never holds up the keeper's report loop, its facts, or its lease.
 * The fence does not come here at all: it has a thread of its own ({@link Fencer}).
 */
public final class ExecutorActor {
  private static final Logger log = LoggerFactory.getLogger(ExecutorActor.class);

  /** The dispatcher the executor runs on. */
  public static final String DISPATCHER = "pgwarden.keeper.executor-dispatcher";
  /** The dispatcher for the keeper's short blocking reads (facts, probes). */
  public static final String IO_DISPATCHER = "pgwarden.keeper.io-dispatcher";

  /** The actor-system configuration of both dispatchers (HOCON). */
  public static final String DISPATCHER_CONFIG = String.join("\n",
      "pgwarden.keeper.executor-dispatcher {",
      "  type = Dispatcher",
      "  executor = \"thread-pool-executor\"",
      "  thread-pool-executor { fixed-pool-size = 1 }",
      "  throughput = 1",
      "}",
      "pgwarden.keeper.io-dispatcher {",
      "  type = Dispatcher",
      "  executor = \"thread-pool-executor\"",
      "  thread-pool-executor { fixed-pool-size = 4 }",
      "  throughput = 1",
      "}");

  public static DispatcherSelector dispatcher() {
    return DispatcherSelector.fromConfig(DISPATCHER);
  }

  public sealed interface Command {}

  /** Run a transition segment; exactly one TransitionFinished goes to {@code replyTo}. */
  public record Run(Action.RunSteps steps, ActorRef<Event.TransitionFinished> replyTo) implements Command {}

  /**
   * An ensure action: StartPostgres, StopPostgres or MaintainPeers. A start is skipped after
   * {@code notAfterMono} (the end of the lease or permit that allowed it).
   */
  public record Ensure(Action action, long notAfterMono) implements Command {}

  private ExecutorActor() {}

  public static Behavior<Command> create(StepRunner runner) {
    return Behaviors.receive(Command.class)
        .onMessage(Run.class, r -> {
          Event.Outcome o;
          try {
            o = runner.run(r.steps());
          } catch (RuntimeException e) {
            log.error("executor: segment of {} -> {} failed unexpectedly", r.steps().from(), r.steps().to(), e);
            o = new Event.Failed("the executor failed unexpectedly: " + e);
          }
          r.replyTo().tell(new Event.TransitionFinished(r.steps().stamp(), o));
          return Behaviors.same();
        })
        .onMessage(Ensure.class, e -> {
          Action a = e.action();
          try {
            if (a instanceof Action.StartPostgres s) {
              runner.start(s.readOnly(), e.notAfterMono());
            } else if (a instanceof Action.StopPostgres s) {
              runner.stop(s.reason());
            } else if (a instanceof Action.MaintainPeers m) {
              runner.ensurePeers(m.peers());
            } else {
              log.error("executor: not an ensure action: {}", a);
            }
          } catch (RuntimeException ex) {
            log.error("executor: ensure {} failed unexpectedly", a, ex);
          }
          return Behaviors.same();
        })
        .build();
  }
}
