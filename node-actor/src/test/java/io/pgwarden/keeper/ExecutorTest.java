package io.pgwarden.keeper;

import static io.pgwarden.keeper.pg.PgNodes.exec;
import static io.pgwarden.keeper.pg.PgNodes.one;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.pgwarden.keeper.pg.LocalFacts;
import io.pgwarden.keeper.pg.LocalPg;
import io.pgwarden.keeper.pg.PgCluster;
import io.pgwarden.keeper.pg.PgNodes;
import io.pgwarden.keeper.pg.PgOps;
import io.pgwarden.keeper.pg.StandbyConfig;
import io.pgwarden.model.Lsn;
import io.pgwarden.model.NodeAddress;
import io.pgwarden.model.NodeSettings;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.PeerInfo;
import io.pgwarden.model.TermSeq;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The executor on real PostgreSQL 15, step by step as the planner lists them: a lone primary built from
 * nothing, a standby cloned through its slot, a segment refused after its lease, a fence that stops the
 * postmaster while the executor is stuck, and the fast_forward setup (a candidate fetching WAL from a
 * more advanced standby up to a recovery target, then promoted).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ExecutorTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private ActorTestKit kit;
  private PgNodes nodes;
  private LocalPg a;
  private LocalPg b;
  private LocalPg c;
  private final Hold hold = new Hold();
  private ActorRef<ExecutorActor.Command> execA;
  private ActorRef<ExecutorActor.Command> execB;
  private ActorRef<ExecutorActor.Command> execC;
  private StepRunner runnerA;

  /** A hook that holds the executor at a Checkpoint step while armed. */
  static final class Hold implements StepRunner.Hook {
    volatile boolean armed;
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    @Override
    public void beforeStep(Step step, Action.RunSteps segment) throws InterruptedException {
      if (armed && step instanceof Step.Checkpoint) {
        entered.countDown();
        release.await();
      }
    }
  }

  @BeforeAll
  void setUp() {
    kit = ActorTestKit.create("executor-test", ConfigFactory.parseString(ExecutorActor.DISPATCHER_CONFIG)
        .withFallback(ConfigFactory.load()));
    nodes = new PgNodes("executor");
    a = nodes.node(1);
    b = nodes.node(2);
    c = nodes.node(3);
    runnerA = runner(a, hold);
    execA = kit.spawn(ExecutorActor.create(runnerA), "exec-1", ExecutorActor.dispatcher());
    execB = kit.spawn(ExecutorActor.create(runner(b, null)), "exec-2", ExecutorActor.dispatcher());
    execC = kit.spawn(ExecutorActor.create(runner(c, null)), "exec-3", ExecutorActor.dispatcher());
  }

  private StepRunner runner(LocalPg pg, StepRunner.Hook hook) {
    Path dir = nodes.root().resolve("keeper" + pg.nodeId());
    return new StepRunner(pg, new StepRunner.Identity("test", pg.nodeId(), "n" + pg.nodeId()), dir, KeeperClock.SYSTEM,
        hook);
  }

  @AfterAll
  void tearDown() {
    hold.release.countDown();
    kit.shutdownTestKit();
    nodes.close();
  }

  static PeerInfo peer(LocalPg pg, NodeState goal) {
    return new PeerInfo(pg.nodeId(), "n" + pg.nodeId(), new NodeAddress("127.0.0.1", pg.port()), null, goal,
        NodeSettings.DEFAULT);
  }

  private Event.Outcome run(ActorRef<ExecutorActor.Command> exec, NodeState from, NodeState to, List<Step> steps,
      StepContext ctx, long notAfter) {
    TestProbe<Event.TransitionFinished> probe = kit.createTestProbe();
    TermSeq stamp = new TermSeq(1, System.nanoTime() % 1_000_000);
    exec.tell(new ExecutorActor.Run(new Action.RunSteps(stamp, from, to, steps, ctx, notAfter), probe.getRef()));
    Event.TransitionFinished f = probe.expectMessageClass(Event.TransitionFinished.class, WAIT.multipliedBy(2));
    assertEquals(stamp, f.stamp());
    probe.expectNoMessage(Duration.ofMillis(50));
    return f.outcome();
  }

  private static void ok(Event.Outcome o) {
    assertInstanceOf(Event.Ok.class, o, String.valueOf(o));
  }

  @Test
  @Order(1)
  void aLonePrimaryFromNothing() {
    StepContext ctx = new StepContext(null, null, "", List.of(peer(b, NodeState.WAIT_STANDBY),
        peer(c, NodeState.WAIT_STANDBY)), "app");
    List<Step> plan = TransitionPlanner.plan(NodeState.INIT, NodeState.SINGLE).orElseThrow();
    assertEquals(Step.REQUIRE_LEASE, plan.get(2));
    long t0 = System.nanoTime();
    ok(run(execA, NodeState.INIT, NodeState.SINGLE, plan.subList(0, 2), ctx, Long.MAX_VALUE));
    ok(run(execA, NodeState.INIT, NodeState.SINGLE, plan.subList(3, plan.size()), ctx,
        KeeperClock.SYSTEM.monoMs() + 60_000));
    System.out.println("MEASURE init -> single, steps only = " + (System.nanoTime() - t0) / 1_000_000 + " ms");
    PgOps ops = new PgOps(a);
    LocalFacts f = ops.facts().read();
    assertTrue(f.running(), f.detail());
    assertFalse(f.inRecovery());
    assertFalse(f.defaultReadOnly());
    assertEquals("1", one(a, "SELECT count(*) FROM pg_database WHERE datname = 'app'"));
    assertEquals("t", one(a, "SELECT rolreplication FROM pg_roles WHERE rolname = 'pgwarden_replicator'"));
    assertEquals(Set.of("pgwarden_2", "pgwarden_3"), Set.copyOf(ops.slots().list().stream().map(s -> s.name())
        .toList()));
    assertFalse(Files.exists(nodes.root().resolve("keeper1").resolve(StepRunner.INITDB_MARKER)));

    // the whole transition again is harmless: initdb finds the cluster and adopts it
    ok(run(execA, NodeState.INIT, NodeState.SINGLE, plan.subList(0, 2), ctx, Long.MAX_VALUE));
    exec(a, "CREATE TABLE t (id int primary key, pad text)", "INSERT INTO t SELECT g, 'x' FROM generate_series(1, 100) g");
  }

  @Test
  @Order(2)
  void aSegmentIsNotBegunAfterItsLease() {
    Event.Outcome o = run(execA, NodeState.SINGLE, NodeState.DEMOTED, List.of(Step.STOP), StepContext.EMPTY,
        KeeperClock.SYSTEM.monoMs() - 5);
    assertInstanceOf(Event.Failed.class, o);
    assertTrue(((Event.Failed) o).detail().contains("refused to begin"), o.toString());
    assertTrue(new PgCluster(a).isRunning(), "nothing was done");
  }

  @Test
  @Order(3)
  void aStandbyClonedThroughItsSlot() {
    StepContext ctx = new StepContext(peer(a, NodeState.WAIT_PRIMARY), null, "", List.of(peer(a, NodeState.WAIT_PRIMARY),
        peer(c, NodeState.WAIT_STANDBY)), "app");
    ok(run(execB, NodeState.WAIT_STANDBY, NodeState.CATCHINGUP,
        TransitionPlanner.plan(NodeState.WAIT_STANDBY, NodeState.CATCHINGUP).orElseThrow(), ctx, Long.MAX_VALUE));
    PgNodes.await("node 2 streaming", WAIT, () -> {
      LocalFacts f = new PgOps(b).facts().read();
      return f.running() && f.walReceiver() != null && f.walReceiver().streaming();
    });
    assertEquals("t", one(a, "SELECT active FROM pg_replication_slots WHERE slot_name = 'pgwarden_2'"));
    ok(run(execB, NodeState.CATCHINGUP, NodeState.SECONDARY,
        TransitionPlanner.plan(NodeState.CATCHINGUP, NodeState.SECONDARY).orElseThrow(), ctx, Long.MAX_VALUE));
    // a standby keeps no slots of its own
    assertTrue(new PgOps(b).slots().list().isEmpty());

    // the primary turns synchronous replication on and waits until it holds
    StepContext pctx = new StepContext(null, null, "ANY 1 (pgwarden_2)", ctx.peers(), "app");
    ok(run(execA, NodeState.WAIT_PRIMARY, NodeState.PRIMARY,
        TransitionPlanner.plan(NodeState.WAIT_PRIMARY, NodeState.PRIMARY).orElseThrow(), pctx, Long.MAX_VALUE));
    exec(a, "INSERT INTO t SELECT g, 'sync' FROM generate_series(101, 200) g");
    assertEquals("quorum", one(a, "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'pgwarden_2'"));
  }

  @Test
  @Order(4)
  void theFastForwardSetupFetchesMissingWalFromAStandby() {
    // node 3: a standby of node 1 that stops streaming, so node 2 gets ahead of it
    StepContext fromA = new StepContext(peer(a, NodeState.PRIMARY), null, "", List.of(peer(a, NodeState.PRIMARY)), "app");
    ok(run(execC, NodeState.WAIT_STANDBY, NodeState.CATCHINGUP,
        TransitionPlanner.plan(NodeState.WAIT_STANDBY, NodeState.CATCHINGUP).orElseThrow(), fromA, Long.MAX_VALUE));
    PgNodes.await("node 3 replays the table", WAIT, () -> {
      try {
        return one(c, "SELECT count(*) FROM t").equals("200");
      } catch (RuntimeException e) {
        return false;
      }
    });
    ok(run(execC, NodeState.CATCHINGUP, NodeState.REPORT_LSN,
        TransitionPlanner.plan(NodeState.CATCHINGUP, NodeState.REPORT_LSN).orElseThrow(), fromA, Long.MAX_VALUE));
    exec(a, "INSERT INTO t SELECT g, 'only on 1 and 2' FROM generate_series(201, 1200) g");
    Lsn target = Lsn.parse(one(a, "SELECT pg_current_wal_flush_lsn()::text"));
    PgNodes.await("node 2 replays " + target, WAIT, () -> new PgOps(b).facts().read().replayLsn().compareTo(target) >= 0);
    assertEquals("200", one(c, "SELECT count(*) FROM t"));

    // node 2 serves node 3's cascading stream (its HBA block lets the peers in)
    new PgOps(b).writeHbaAndReload(PgNodes.peers(a, c));
    StepContext ff = new StepContext(peer(b, NodeState.REPORT_LSN), target, "", List.of(), "app");
    long t0 = System.nanoTime();
    ok(run(execC, NodeState.REPORT_LSN, NodeState.FAST_FORWARD,
        TransitionPlanner.plan(NodeState.REPORT_LSN, NodeState.FAST_FORWARD).orElseThrow(), ff, Long.MAX_VALUE));
    System.out.println("MEASURE fast-forward (setup, restart, replay, checkpoint) = "
        + (System.nanoTime() - t0) / 1_000_000 + " ms");
    assertEquals(target, new StandbyConfig(c).recoveryTarget());
    assertEquals(target.toString(), one(c, "SHOW recovery_target_lsn"));
    assertEquals("1200", one(c, "SELECT count(*) FROM t"));

    // then it stops following and is promoted: the promotion ends any pause at the target
    ok(run(execC, NodeState.FAST_FORWARD, NodeState.PREPARE_PROMOTION,
        TransitionPlanner.plan(NodeState.FAST_FORWARD, NodeState.PREPARE_PROMOTION).orElseThrow(), ff, Long.MAX_VALUE));
    ok(run(execC, NodeState.PREPARE_PROMOTION, NodeState.STOP_REPLICATION, List.of(Step.SYNC_OFF, Step.READ_ONLY_ON,
        Step.PROMOTE, Step.CHECKPOINT, Step.REMOVE_STANDBY_SETUP), ff, KeeperClock.SYSTEM.monoMs() + 60_000));
    LocalFacts f = new PgOps(c).facts().read();
    assertFalse(f.inRecovery(), String.valueOf(f));
    assertTrue(f.defaultReadOnly());
    assertEquals(2, f.timeline());
    assertEquals("1200", one(c, "SELECT count(*) FROM t"));
    new PgCluster(c).stop(PgCluster.StopMode.IMMEDIATE, Duration.ofSeconds(2));
  }

  @Test
  @Order(5)
  void theFenceStopsThePostmasterWhileTheExecutorIsStuck() throws Exception {
    hold.armed = true;
    TestProbe<Event.TransitionFinished> probe = kit.createTestProbe();
    execA.tell(new ExecutorActor.Run(new Action.RunSteps(new TermSeq(9, 1), NodeState.PRIMARY, NodeState.MAINTENANCE,
        List.of(Step.CHECKPOINT, Step.STOP), StepContext.EMPTY, Long.MAX_VALUE), probe.getRef()));
    assertTrue(hold.entered.await(10, TimeUnit.SECONDS), "the executor reached the held step");
    assertTrue(new PgCluster(a).isRunning());
    List<Long> tree = PgNodes.processTree(a);
    try (Fencer fencer = new Fencer(a, "node 1")) {
      long t0 = System.nanoTime();
      fencer.fence("test: lease ended");
      PgNodes.await("postmaster gone", Duration.ofSeconds(5), () -> !new PgCluster(a).isRunning());
      long ms = (System.nanoTime() - t0) / 1_000_000;
      System.out.println("MEASURE fence of a primary while the executor is busy = " + ms + " ms");
      assertTrue(ms < 2_000, "fenced in " + ms + " ms");
      PgNodes.await("every process of the old tree gone", Duration.ofSeconds(5),
          () -> tree.stream().noneMatch(p -> ProcessHandle.of(p).map(ProcessHandle::isAlive).orElse(false)
              && isPostgres(p)));
    }
    probe.expectNoMessage(Duration.ofMillis(100));
    hold.armed = false;
    hold.release.countDown();
    // the held segment goes on against a dead server: the checkpoint is skipped, the stop finds nothing
    ok(probe.expectMessageClass(Event.TransitionFinished.class, WAIT).outcome());
  }

  private static boolean isPostgres(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      return !stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
    } catch (Exception e) {
      return false;
    }
  }

  @Test
  @Order(6)
  void anUnknownUpstreamFailsTheStepWithoutRetrying() {
    Event.Outcome o = run(execB, NodeState.SECONDARY, NodeState.CATCHINGUP, List.of(Step.FOLLOW_PRIMARY),
        StepContext.EMPTY, Long.MAX_VALUE);
    assertInstanceOf(Event.Failed.class, o);
    assertTrue(((Event.Failed) o).detail().contains("no upstream"), o.toString());
    assertNotNull(runnerA);
  }
}
