package io.pgwarden.controller.actor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgwarden.api.Dto;
import io.pgwarden.model.FormationEvent;
import io.pgwarden.model.Goal;
import io.pgwarden.model.JournalEvent;
import io.pgwarden.model.Lsn;
import io.pgwarden.model.NodeAddress;
import io.pgwarden.model.NodeReport;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.PgStatus;
import io.pgwarden.model.ReportReply;
import io.pgwarden.model.Requester;
import io.pgwarden.model.TermSeq;
import io.pgwarden.model.Timing;
import io.pgwarden.model.WalReceiverInfo;
import io.pgwarden.persistence.JournalStore;
import io.pgwarden.persistence.read.EventLog;
import io.pgwarden.persistence.read.StoredEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The controller's actor system is stopped at a random point of a failover and restarted on the same
 * journal, many times: every run must finish the failover, and no goal a keeper received may be lost
 * from the journal, duplicated, or stamped with a term that is reused.
 */
class RestartSafetyTest {
  /** Very short timeouts, so that one failover takes well under a second of real time. */
  static final Timing QUICK = new Timing(30, 150, 50_000, 20, 150, 30, 40, 120, 5_000, 150, 10, 150,
      16L * 1024 * 1024);
  static final int RUNS = Integer.getInteger("restart.runs", 100);

  /** Probe results the test decides: a node is "down" when its keeper is stopped. */
  static final Set<Integer> DOWN = ConcurrentHashMap.newKeySet();
  static final NodeProbe PROBE = (address, timeout) ->
      new NodeProbe.Result(!DOWN.contains(address.port() - 5400), "test probe");

  @Test
  void failoverSurvivesAControllerRestartAtAnyPoint() throws Exception {
    long seed = Long.getLong("restart.seed", System.nanoTime());
    System.out.println("RestartSafetyTest seed=" + seed + " runs=" + RUNS);
    Random rnd = new Random(seed);
    Map<String, Integer> restartedIn = new java.util.TreeMap<>();
    for (int run = 0; run < RUNS; run++) {
      DOWN.clear();
      restartedIn.merge(oneRun(run, rnd.nextInt(400), seed), 1, Integer::sum);
    }
    System.out.println("RestartSafetyTest: the controller restarted while the standby's goal was " + restartedIn);
    assertTrue(restartedIn.size() >= 2, "restarts must land in several phases of the failover: " + restartedIn);
  }

  /** One failover with one restart; returns the standby's goal when the restart happened. */
  private String oneRun(int run, int restartAfterMs, long seed) throws Exception {
    JournalStore store = JournalStore.h2Memory("restart" + run + "x" + seed);
    try (ControllerFixture c = new ControllerFixture(store, QUICK, PROBE)) {
      ControllerFixture.get(c.service.createFormation(new Dto.CreateFormation("f", null, null, null, null),
          Requester.of("test", "")));
      Keeper a = new Keeper(c, 1);
      Keeper b = new Keeper(c, 2);
      a.register();
      await(() -> a.step() && a.state == NodeState.SINGLE, 10_000, "a single");
      b.register();
      await(() -> a.step() & b.step() && a.state == NodeState.PRIMARY && b.state == NodeState.SECONDARY, 15_000,
          "a primary, b secondary");
      // both report the states they reached: the controller now knows a applies its synchronous quorum
      await(() -> a.step() & b.step(), 5_000, "reports");
      // the primary's host dies; at a random point of what follows, the controller restarts
      DOWN.add(1);
      b.streaming = false;
      long restartAt = System.nanoTime() + restartAfterMs * 1_000_000L;
      boolean restarted = false;
      String phase = "after the failover";
      long deadline = System.nanoTime() + 20_000_000_000L;
      while (!(b.state == NodeState.PRIMARY || b.state == NodeState.WAIT_PRIMARY) || !b.goalReached()) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("run " + run + " (restart after " + restartAfterMs + " ms): failover did not finish;"
              + " b is " + b.state + " with goal " + b.goal);
        }
        if (!restarted && System.nanoTime() > restartAt) {
          phase = b.goal == null ? "unknown" : b.goal.state().wireName();
          c.restart();
          restarted = true;
        }
        b.step();
        TimeUnit.MILLISECONDS.sleep(QUICK.reportIntervalMs());
      }
      check(run, store, List.of(a, b));
      return phase;
    }
  }

  /** Every goal the keepers received is journaled once, and stamps and terms only grow. */
  private static void check(int run, JournalStore store, List<Keeper> keepers) {
    try (EventLog log = new EventLog(store)) {
      List<StoredEvent> events = log.byPersistenceId(FormationSupervisor.persistenceId("f"));
      Map<TermSeq, List<Goal>> byStamp = new HashMap<>();
      TermSeq last = TermSeq.NONE;
      long term = 0;
      for (StoredEvent se : events) {
        JournalEvent e = se.event();
        if (e instanceof FormationEvent.TermRaised t) {
          assertTrue(t.term() > term, "run " + run + ": term raised to " + t.term() + " after " + term);
          term = t.term();
        }
        if (e instanceof FormationEvent.Decided d) {
          assertTrue(d.stamp().isNewerThan(last), "run " + run + ": stamp " + d.stamp() + " after " + last);
          assertTrue(d.stamp().term() >= term, "run " + run + ": decision in an old term " + d.stamp());
          last = d.stamp();
          term = d.stamp().term();
          byStamp.put(d.stamp(), d.goals());
        }
      }
      for (Keeper k : keepers) {
        for (Goal g : k.received) {
          if (g.stamp().equals(TermSeq.NONE)) continue;
          List<Goal> journaled = byStamp.get(g.stamp());
          assertTrue(journaled != null && journaled.contains(g),
              "run " + run + ": node " + k.id + " received " + g + " which the journal does not hold");
        }
      }
    }
  }

  private static void await(java.util.function.BooleanSupplier cond, long ms, String what) throws Exception {
    long end = System.nanoTime() + ms * 1_000_000L;
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > end) throw new AssertionError("timed out waiting for " + what);
      TimeUnit.MILLISECONDS.sleep(QUICK.reportIntervalMs());
    }
  }

  /** An idealised keeper: reports, and reaches every goal it is given at its next report. */
  static final class Keeper {
    final ControllerFixture c;
    final int id;
    NodeState state = NodeState.INIT;
    Goal goal;
    TermSeq executed = TermSeq.NONE;
    long term;
    String names = "";
    boolean streaming = true;
    final List<Goal> received = new ArrayList<>();

    Keeper(ControllerFixture c, int id) {
      this.c = c;
      this.id = id;
    }

    void register() {
      Dto.Registration r = ControllerFixture.get(c.service.register("f",
          new Dto.RegisterNode("n" + id, "127.0.0.1", 5400 + id, null, null, null)));
      assertEquals(id, r.nodeId());
    }

    boolean goalReached() {
      return goal != null && goal.state() == state;
    }

    /** One report; true when the controller answered. */
    boolean step() {
      boolean writable = state.canTakeWrites() || state == NodeState.STOP_REPLICATION;
      NodeReport r = new NodeReport(state, executed, term, PgStatus.RUNNING, !writable, 7, 1, Lsn.parse("0/3000000"),
          Lsn.parse("0/3000000"), names, List.of(), writable ? null
          : new WalReceiverInfo(streaming ? "streaming" : "waiting", 1, "127.0.0.1", 5401, 1, streaming ? 5L : 9_000L),
          null, false, null, null);
      ReportReply reply;
      try {
        reply = c.service.report("f", id, r, executed, Duration.ZERO).toCompletableFuture().get(5, TimeUnit.SECONDS);
      } catch (Exception e) {
        return false; // the controller is restarting
      }
      received.add(reply.goal());
      goal = reply.goal();
      term = Math.max(term, reply.term());
      if (reply.goal().stamp().isNewerThan(executed)) {
        executed = reply.goal().stamp();
        state = reply.goal().state();
        if (state.canTakeWrites()) names = reply.syncStandbyNames();
      }
      return true;
    }
  }

  static NodeAddress address(int id) {
    return new NodeAddress("127.0.0.1", 5400 + id);
  }
}
