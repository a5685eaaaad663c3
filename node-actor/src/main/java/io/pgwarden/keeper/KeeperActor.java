package io.pgwarden.keeper;

import io.pgwarden.keeper.pg.LocalFacts;
import io.pgwarden.keeper.pg.PgOps;
import io.pgwarden.keeper.pg.Probe;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.PeerInfo;
import io.pgwarden.model.ReportReply;
import io.pgwarden.model.Timing;
import io.pgwarden.model.WalReceiverInfo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The keeper's shell: feeds {@link KeeperStep} with events and the time (monotonic and wall, in ms), and
 * carries out the actions it returns. A tick every {@link Timing#tickMs()}; the facts of the local
 * PostgreSQL read on the blocking I/O pool (at most one read in flight, one about every 100 ms; a server
 * that does not answer within 1 s is HUNG); a standby's own probe of its primary, whose age goes into
 * the facts; reports over HTTP, echoing their send times back; transition segments and ensure actions to
 * the {@link ExecutorActor}; the fence to the {@link Fencer}; the persisted state written atomically
 * before anything else of the same step leaves; failsafe questions to the peers' keeper APIs.
 *
 * <p>After every event it publishes a {@link KeeperStatus} for the health endpoints.
 */
public final class KeeperActor {
  private static final Logger log = LoggerFactory.getLogger(KeeperActor.class);
  /** Facts are read no more often than this (and at most one read at a time). */
  static final long FACTS_EVERY_MS = 100;

  public sealed interface Msg {}

  enum Tick implements Msg { INSTANCE }

  /** A facts read came back; {@code then} is a finished transition to apply right after these facts. */
  record FactsDone(long seq, LocalFacts facts, String failure, Event.TransitionFinished then) implements Msg {}

  record ProbeDone(int upstreamId, boolean alive, long startedMono, String detail) implements Msg {}

  /** A report's outcome; {@code status} is the HTTP status of a refusal (0: no answer at all). */
  record ReportDone(ReportReply reply, long sentMono, long sentWall, String failure, int status) implements Msg {}

  record Finished(Event.TransitionFinished event) implements Msg {}

  record PeerAnswered(Event.PeerConfirmation confirmation) implements Msg {}

  /** A peer primary asks for a promise (from the keeper's HTTP server); answered through {@code answer}. */
  public record PromiseAsked(int primaryId, long term, CompletableFuture<PeerLink.Answer> answer) implements Msg {}

  /** Stop the loop (the app stops PostgreSQL itself when it shuts down gracefully). */
  public record Shutdown(CompletableFuture<Void> done) implements Msg {}

  /**
   * What the shell needs.
   *
   * @param persisted what the state file held at start
   * @param status receives a fresh status after every event
   * @param exit told the exit code when the keeper leaves its formation
   * @param heartbeat called at every tick (the systemd watchdog)
   */
  public record Deps(KeeperStep step, StepRunner.Identity id, Persisted persisted, StateFile stateFile,
      ControllerLink controller, PeerLink peers, ActorRef<ExecutorActor.Command> executor, Fencer fencer, PgOps ops,
      Executor io, KeeperClock clock, Consumer<KeeperStatus> status, IntConsumer exit, Runnable heartbeat) {}

  /** The exit code of a keeper whose node was dropped from its formation. */
  public static final int EXIT_DROPPED = 4;

  private KeeperActor() {}

  public static Behavior<Msg> create(Deps deps) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new Shell(ctx, timers, deps).behavior()));
  }

  private static final class Shell {
    private final ActorContext<Msg> ctx;
    private final Deps d;
    private final Timing timing;
    private final String label;
    private final ActorRef<Event.TransitionFinished> finished;
    private KeeperState state = KeeperState.initial();
    private LocalFacts local;
    private int factsInFlight;
    private long factsSeq;
    private long factsApplied;
    private long lastFactsStart = Long.MIN_VALUE / 2;
    private Integer probedUpstream;
    private Long lastProbeOkMono;
    private boolean probeInFlight;
    private long lastProbeStart = Long.MIN_VALUE / 2;
    private long requestIds;
    private final Map<Long, CompletableFuture<PeerLink.Answer>> pending = new HashMap<>();
    private boolean reportsFailing;
    private NodeState loggedState;
    private boolean leaving;

    Shell(ActorContext<Msg> ctx, TimerScheduler<Msg> timers, Deps d) {
      this.ctx = ctx;
      this.d = d;
      this.timing = d.step().config().timing();
      this.label = d.id().label();
      this.finished = ctx.messageAdapter(Event.TransitionFinished.class, Finished::new);
      timers.startTimerWithFixedDelay(Tick.INSTANCE, Duration.ofMillis(Math.max(1, timing.tickMs())));
      log.info("{}: keeper starting from state {} (goal {} executed, term {} known)", label, d.persisted().current(),
          d.persisted().executed(), d.persisted().knownTerm());
      loggedState = d.persisted().current();
      apply(new Event.KeeperStarted(d.persisted()));
      readFacts(d.clock().monoMs(), null);
    }

    Behavior<Msg> behavior() {
      return Behaviors.receive(Msg.class)
          .onMessage(Tick.class, t -> tick())
          .onMessage(FactsDone.class, this::facts)
          .onMessage(ProbeDone.class, this::probed)
          .onMessage(ReportDone.class, this::reported)
          .onMessage(Finished.class, f -> {
            // the "reached" report must carry what PostgreSQL is now (e.g. the quorum just applied), not
            // facts read before the last step: read them first, then apply the outcome
            readFacts(d.clock().monoMs(), f.event());
            return next();
          })
          .onMessage(PeerAnswered.class, p -> {
            apply(p.confirmation());
            return next();
          })
          .onMessage(PromiseAsked.class, this::promiseAsked)
          .onMessage(Shutdown.class, s -> {
            failPending("the keeper is stopping");
            s.done().complete(null);
            return Behaviors.stopped();
          })
          .build();
    }

    private Behavior<Msg> next() {
      return leaving ? Behaviors.stopped() : Behaviors.same();
    }

    // ---------------------------------------------------------------- events in

    private Behavior<Msg> tick() {
      long now = d.clock().monoMs();
      apply(new Event.Tick());
      if (factsInFlight == 0 && now - lastFactsStart >= Math.max(timing.tickMs(), FACTS_EVERY_MS)) {
        readFacts(now, null);
      }
      probeIfDue(now);
      d.heartbeat().run();
      return next();
    }

    private void readFacts(long now, Event.TransitionFinished then) {
      factsInFlight++;
      lastFactsStart = now;
      long seq = ++factsSeq;
      ctx.pipeToSelf(CompletableFuture.supplyAsync(() -> d.ops().facts().read(), d.io()),
          (f, err) -> new FactsDone(seq, f, err == null ? null : String.valueOf(cause(err)), then));
    }

    private Behavior<Msg> facts(FactsDone m) {
      factsInFlight--;
      if (m.facts() == null) {
        log.warn("{}: reading the facts failed: {}", label, m.failure());
      } else if (m.seq() > factsApplied) {
        // a read started earlier than one already applied is older news: dropped
        factsApplied = m.seq();
        local = m.facts();
        apply(new Event.FactsRead(toPgFacts(local, d.clock().monoMs())));
      }
      if (m.then() != null) apply(m.then());
      return next();
    }

    /** The operations layer's facts in the core's terms: the upstream mapped to its node, the probe's age. */
    private PgFacts toPgFacts(LocalFacts f, long now) {
      WalReceiverInfo wr = f.walReceiver();
      if (wr != null && wr.upstreamNodeId() == null) {
        Integer up = nodeAt(wr.senderHost(), wr.senderPort());
        wr = new WalReceiverInfo(wr.status(), up, wr.senderHost(), wr.senderPort(), wr.receivedTimeline(),
            wr.lastMsgAgeMs());
      }
      Long probeAge = null;
      PeerInfo up = upstream();
      if (f.inRecovery() && up != null && lastProbeOkMono != null && probedUpstream != null
          && probedUpstream == up.nodeId()) {
        probeAge = Math.max(0, now - lastProbeOkMono);
      }
      return new PgFacts(f.status(), f.inRecovery(), f.systemIdentifier(), f.timeline(), f.lsn(), f.replayLsn(),
          f.syncStandbyNames(), f.walSenders(), wr, probeAge);
    }

    private Integer nodeAt(String host, int port) {
      ReportReply r = state.lastReply();
      if (r == null || host == null) return null;
      List<PeerInfo> all = new ArrayList<>(r.peers());
      if (r.upstream() != null) all.add(r.upstream());
      for (PeerInfo p : all) {
        if (p.address() != null && p.address().port() == port && p.address().host().equals(host)) return p.nodeId();
      }
      return null;
    }

    private PeerInfo upstream() {
      return state.lastReply() == null ? null : state.lastReply().upstream();
    }

    /** A standby probes the primary it follows (startup packet, no login); the age of the last success counts. */
    private void probeIfDue(long now) {
      PeerInfo up = upstream();
      if (up == null || up.address() == null || local == null || !local.inRecovery()) return;
      if (probedUpstream == null || probedUpstream != up.nodeId()) {
        probedUpstream = up.nodeId();
        lastProbeOkMono = null;
      }
      if (probeInFlight || now - lastProbeStart < timing.probeIntervalMs()) return;
      probeInFlight = true;
      lastProbeStart = now;
      int id = up.nodeId();
      String host = up.address().host();
      int port = up.address().port();
      Duration timeout = Duration.ofMillis(Math.max(1, timing.probeTimeoutMs()));
      ctx.pipeToSelf(CompletableFuture.supplyAsync(() -> Probe.probe(host, port, timeout), d.io()),
          (r, err) -> new ProbeDone(id, r != null && r.alive(), now, r == null ? String.valueOf(err) : r.detail()));
    }

    private Behavior<Msg> probed(ProbeDone m) {
      probeInFlight = false;
      if (m.alive() && probedUpstream != null && probedUpstream == m.upstreamId()) {
        lastProbeOkMono = lastProbeOkMono == null ? m.startedMono() : Math.max(lastProbeOkMono, m.startedMono());
      } else if (!m.alive()) {
        log.debug("{}: probe of node {} failed: {}", label, m.upstreamId(), m.detail());
      }
      return next();
    }

    private Behavior<Msg> reported(ReportDone m) {
      if (m.failure() != null && (m.status() == 404 || m.status() == 401) && state.current() == NodeState.DROPPED
          && state.node().executed().compareTo(io.pgwarden.model.TermSeq.NONE) > 0) {
        // The controller no longer knows this node (it removes a node, and its credential, as soon as the
        // keeper reports the drop done): that is the confirmation, even if the answer that said so was lost.
        log.info("{}: the controller no longer knows this node ({}): the drop is confirmed", label, m.failure());
        ReportReply gone = new ReportReply(d.id().formation(), new io.pgwarden.model.Goal(d.id().nodeId(),
            NodeState.DROPPED, state.node().executed()), state.node().knownTerm(), 0, null, 0, null, null, "",
            List.of(), null, null);
        apply(new Event.ReplyReceived(gone, m.sentMono(), m.sentWall()));
        return next();
      }
      if (m.failure() != null) {
        if (!reportsFailing) log.warn("{}: report to the controller failed: {}", label, m.failure());
        reportsFailing = true;
        apply(new Event.ReportFailed(m.sentMono(), m.sentWall(), m.failure()));
      } else {
        if (reportsFailing) log.info("{}: the controller answers again", label);
        reportsFailing = false;
        apply(new Event.ReplyReceived(m.reply(), m.sentMono(), m.sentWall()));
      }
      return next();
    }

    private Behavior<Msg> promiseAsked(PromiseAsked m) {
      long id = ++requestIds;
      pending.put(id, m.answer());
      m.answer().thenAccept(a -> {
        if (a.ok()) {
          log.debug("{}: node {} asked for a promise in term {}: promised ({})", label, m.primaryId(), m.term(),
              a.reason());
        } else {
          log.info("{}: node {} asked for a promise in term {}: refused ({})", label, m.primaryId(), m.term(),
              a.reason());
        }
      });
      apply(new Event.PeerPromiseRequest(id, m.primaryId(), m.term()));
      CompletableFuture<PeerLink.Answer> left = pending.remove(id);
      if (left != null) {
        left.complete(new PeerLink.Answer(d.id().nodeId(), state.node().knownTerm(), false,
            "the keeper has not started yet"));
      }
      return next();
    }

    private void failPending(String why) {
      for (CompletableFuture<PeerLink.Answer> f : pending.values()) {
        f.complete(new PeerLink.Answer(d.id().nodeId(), state.node().knownTerm(), false, why));
      }
      pending.clear();
    }

    // ---------------------------------------------------------------- the step function

    private void apply(Event e) {
      long mono = d.clock().monoMs();
      long wall = d.clock().wallMs();
      KeeperStep.Result r = d.step().step(state, e, mono, wall);
      state = r.state();
      for (Action a : r.actions()) perform(a, mono, wall);
      if (state.current() != loggedState) {
        log.info("{}: reached state {} (goal {}, term {})", label, state.current(), state.node().executed(),
            state.node().knownTerm());
        loggedState = state.current();
      }
      publish(mono);
    }

    private void perform(Action a, long mono, long wall) {
      if (a instanceof Action.PersistState p) {
        try {
          d.stateFile().write(p.state());
        } catch (RuntimeException ex) {
          log.error("{}: {}; the keeper goes on with the state in memory, a restart would resume from the old one",
              label, ex.getMessage());
        }
      } else if (a instanceof Action.SendReport s) {
        send(s);
      } else if (a instanceof Action.RunSteps rs) {
        d.executor().tell(new ExecutorActor.Run(rs, finished));
      } else if (a instanceof Action.FencePostgres f) {
        log.warn("{}: fencing PostgreSQL (state {}, term {}): {}", label, state.current(), state.node().knownTerm(),
            f.reason());
        d.fencer().fence(f.reason());
      } else if (a instanceof Action.StartPostgres s) {
        d.executor().tell(new ExecutorActor.Ensure(s, startDeadline(mono, wall)));
      } else if (a instanceof Action.StopPostgres || a instanceof Action.MaintainPeers) {
        d.executor().tell(new ExecutorActor.Ensure(a, Long.MAX_VALUE));
      } else if (a instanceof Action.AskPeers ap) {
        askPeers(ap);
      } else if (a instanceof Action.AnswerPeer ap) {
        CompletableFuture<PeerLink.Answer> f = pending.remove(ap.requestId());
        if (f != null) f.complete(new PeerLink.Answer(d.id().nodeId(), ap.term(), ap.ok(), ap.reason()));
      } else if (a instanceof Action.ReportError re) {
        log.warn("{}: {} [state {}, goal {}, term {}]", label, re.detail(), state.current(),
            state.goal() == null ? "none" : state.goal().state() + " " + state.goal().stamp(),
            state.node().knownTerm());
      } else if (a instanceof Action.LeaveFormation) {
        log.warn("{}: the controller confirmed that this node is dropped from formation {}: the keeper stops for"
            + " good", label, d.id().formation());
        leaving = true;
        d.exit().accept(EXIT_DROPPED);
      } else {
        log.error("{}: unknown action {}", label, a);
      }
    }

    /** A start in a writable state may not begin after its lease; in stop_replication, after its permit. */
    private long startDeadline(long mono, long wall) {
      NodeState c = state.current();
      Grant g = c.canTakeWrites() ? state.lease() : c == NodeState.STOP_REPLICATION ? state.permit() : null;
      if (g == null) return c.canTakeWrites() || c == NodeState.STOP_REPLICATION ? mono - 1 : Long.MAX_VALUE;
      return mono + Math.max(0, g.remainingMs(mono, wall));
    }

    private void send(Action.SendReport s) {
      CompletableFuture<ReportReply> f;
      try {
        f = d.controller().report(s.report(), s.knownStamp(), s.waitMs());
      } catch (RuntimeException e) {
        f = CompletableFuture.failedFuture(e);
      }
      ctx.pipeToSelf(f, (reply, err) -> err == null ? new ReportDone(reply, s.sentMono(), s.sentWall(), null, 200)
          : new ReportDone(null, s.sentMono(), s.sentWall(), message(cause(err)),
              cause(err) instanceof io.pgwarden.api.ApiException a ? a.status() : 0));
    }

    private void askPeers(Action.AskPeers ap) {
      for (PeerInfo p : ap.peers()) {
        CompletableFuture<PeerLink.Answer> f;
        try {
          f = d.peers().ask(p, d.id().nodeId(), ap.term());
        } catch (RuntimeException e) {
          f = CompletableFuture.failedFuture(e);
        }
        ctx.pipeToSelf(f, (ans, err) -> {
          if (err != null) {
            log.debug("{}: failsafe round {}: node {} did not answer: {}", label, ap.round(), p.nodeId(),
                message(cause(err)));
            return new PeerAnswered(new Event.PeerConfirmation(p.nodeId(), ap.round(), 0, false,
                "no answer: " + message(cause(err))));
          }
          return new PeerAnswered(new Event.PeerConfirmation(p.nodeId(), ap.round(), ans.term(), ans.ok(),
              ans.reason()));
        });
      }
    }

    private void publish(long mono) {
      d.status().accept(new KeeperStatus(d.id().nodeId(), d.id().name(), d.id().formation(), state.started(),
          state.current(), state.goal(), state.node().executed(), state.node().knownTerm(), state.lease(), local,
          upstream(), mono, state.fencing().fencedAtMono() != null, state.error()));
    }
  }

  private static Throwable cause(Throwable t) {
    while ((t instanceof CompletionException || t instanceof java.util.concurrent.ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  private static String message(Throwable t) {
    return t.getMessage() == null ? t.toString() : t.getMessage();
  }
}
