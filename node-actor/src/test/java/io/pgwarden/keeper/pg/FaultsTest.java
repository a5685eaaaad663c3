package io.pgwarden.keeper.pg;

import static io.pgwarden.keeper.pg.PgNodes.exec;
import static io.pgwarden.keeper.pg.PgNodes.one;
import static io.pgwarden.keeper.pg.PgNodes.upstream;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgwarden.model.PgStatus;
import io.pgwarden.os.Command;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Faults and bad input on real PostgreSQL: a PGDATA that is not a cluster, a clone killed half-way, an
 * interrupted swap, a hung (SIGSTOPped) server, liveness probes, and a promotion that needs re-sends.
 * Node 1 is a source; node 2 is a separate cluster (its own system identifier) that must stay untouched.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultsTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private PgNodes nodes;
  private LocalPg s;
  private LocalPg t;
  private PgOps opsS;
  private PgOps opsT;
  private long sysidT;

  @BeforeAll
  void setUp() {
    nodes = new PgNodes("faults");
    s = nodes.node(1);
    t = nodes.node(2);
    opsS = new PgOps(s);
    opsT = new PgOps(t);
    opsS.cluster().initdb();
    opsS.cluster().start();
    opsS.sql().ensureReplicationRole();
    opsS.writeHbaAndReload(PgNodes.peers(s, t));
    exec(s, "CREATE TABLE big AS SELECT g, repeat('p', 500) AS pad FROM generate_series(1, 20000) g");
    opsT.cluster().initdb();
    opsT.cluster().start();
    exec(t, "CREATE TABLE marker (x int)");
    sysidT = opsT.cluster().systemIdentifier();
  }

  @AfterAll
  void tearDown() {
    nodes.close();
  }

  private void assertTUntouched() {
    assertTrue(opsT.cluster().isRunning(), "node 2 still runs");
    assertEquals(sysidT, opsT.facts().read().systemIdentifier());
    assertEquals("0", one(t, "SELECT count(*) FROM marker"));
    assertNoCloneLeftovers();
  }

  private void assertNoCloneLeftovers() {
    try (Stream<Path> l = Files.list(t.pgdata().getParent())) {
      List<String> names = l.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".")).toList();
      assertEquals(List.of(), names, "no temporary clone directories left");
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  @Order(1)
  void aNonClusterPgdataIsRefusedAndLeftAlone() throws IOException {
    LocalPg x = nodes.node(3);
    Files.createDirectories(x.pgdata());
    Path foreign = x.pgdata().resolve("important.txt");
    Files.writeString(foreign, "not a database");
    PgOps ops = new PgOps(x);

    var e = assertThrows(PgOpException.Refused.class, () -> ops.cluster().initdb());
    assertEquals(PgOpException.Refused.Reason.NOT_EMPTY, e.reason());
    assertTrue(e.getMessage().contains("not empty and is not a PostgreSQL cluster"), e.getMessage());
    assertEquals(PgOpException.Refused.Reason.NOT_A_CLUSTER,
        assertThrows(PgOpException.Refused.class, () -> ops.cluster().adopt()).reason());
    assertEquals(PgOpException.Refused.Reason.NOT_A_CLUSTER,
        assertThrows(PgOpException.Refused.class, () -> ops.cluster().start()).reason());
    assertEquals(PgOpException.Refused.Reason.NOT_EMPTY, assertThrows(PgOpException.Refused.class,
        () -> ops.basebackup().clone(upstream(s), null, null, WAIT, null)).reason());
    assertEquals(PgOpException.Refused.Reason.NOT_A_CLUSTER, assertThrows(PgOpException.Refused.class,
        () -> ops.rewinder().rewindOrClone(upstream(s), null, null, null, null)).reason());
    try (Stream<Path> l = Files.list(x.pgdata())) {
      assertEquals(List.of(foreign), l.toList(), "nothing was added");
    }
    assertEquals("not a database", Files.readString(foreign));

    assertEquals(PgOpException.Refused.Reason.ALREADY_A_CLUSTER,
        assertThrows(PgOpException.Refused.class, () -> opsS.cluster().initdb()).reason());
    assertEquals(PgOpException.Refused.Reason.BAD_INPUT, assertThrows(PgOpException.Refused.class,
        () -> opsT.basebackup().clone(upstream(s), "not_ours", null, WAIT, null)).reason());
    assertEquals(PgOpException.Refused.Reason.BAD_INPUT, assertThrows(PgOpException.Refused.class,
        () -> opsT.basebackup().clone(upstream(s), null, "fast", WAIT, null)).reason());
    assertEquals(PgOpException.Refused.Reason.BAD_INPUT,
        assertThrows(PgOpException.Refused.class, () -> opsS.slots().ensure(Set.of("other_slot"))).reason());
    assertThrows(IllegalArgumentException.class, () -> new StandbyConfig.Upstream("host; rm -rf /", 5432));
    assertThrows(IllegalArgumentException.class, () -> new HbaConfig.Peer(1, "0.0.0.0/0 trust\nhost"));
    assertTUntouched();
  }

  @Test
  @Order(2)
  void aCloneKilledHalfWayLeavesPgdataUntouched() {
    List<BaseBackup.Progress> progress = new ArrayList<>();
    var e = assertThrows(PgOpException.CommandFailed.class,
        () -> opsT.basebackup().clone(upstream(s), null, "32k", Duration.ofMillis(2500), progress::add));
    assertTrue(e.timedOut(), e.getMessage());
    assertFalse(progress.isEmpty(), "the copy had started");
    BaseBackup.Progress last = progress.get(progress.size() - 1);
    assertTrue(last.doneKb() > 0 && last.percent() < 100, "half-way: " + last);
    assertTrue(e.getMessage().contains("pg_basebackup") && e.getMessage().contains("timed out"), e.getMessage());
    assertTUntouched();
  }

  @Test
  @Order(3)
  void anInterruptedSwapIsUndoneByTheNextRun() throws IOException {
    opsT.cluster().stop(PgCluster.StopMode.FAST);
    Path data = t.pgdata();
    Path aside = data.resolveSibling(".data" + BaseBackup.OLD_MARK + "1");
    Path clone = data.resolveSibling(".data" + BaseBackup.CLONE_MARK + "2");
    Files.move(data, aside);
    Files.createDirectories(clone.resolve("base"));
    opsT.basebackup().cleanupLeftovers();
    assertTrue(PgCluster.isCluster(data));
    opsT.cluster().start();
    assertTUntouched();
  }

  @Test
  @Order(4)
  void probes() throws Exception {
    Probe.Result alive = Probe.probe("127.0.0.1", t.port(), Duration.ofSeconds(1));
    assertTrue(alive.alive(), alive.toString());
    System.out.println("MEASURE probe of a live server = " + alive.elapsedMs() + " ms (" + alive.detail() + ")");
    Probe.Result refused = Probe.probe("127.0.0.1", io.pgwarden.testing.TestPostgres.freePort(), Duration.ofSeconds(1));
    assertFalse(refused.alive());
    assertEquals("connection refused", refused.detail());

    // a server shutting down (smart mode waits for this open session) answers 57P03
    try (Connection c = PgNodes.connect(t)) {
      Command.Result r = Command.of("pg_ctl stop -m smart", t.bin().argv("pg_ctl", "stop", "-W", "-m", "smart", "-D",
          t.pgdata().toString()), Duration.ofSeconds(10)).runningAs(t.pgUser()).run();
      assertTrue(r.ok(), r.describe());
      PgNodes.await("shutting down", WAIT, () -> "57P03".equals(
          Probe.probe("127.0.0.1", t.port(), Duration.ofSeconds(1)).sqlState()));
      Probe.Result stopping = Probe.probe("127.0.0.1", t.port(), Duration.ofSeconds(1));
      assertFalse(stopping.alive(), stopping.toString());
      assertTrue(c.isValid(1));
    }
    PgNodes.await("stopped", WAIT, () -> !opsT.cluster().isRunning());
    opsT.cluster().start();
    assertTUntouched();
  }

  @Test
  @Order(5)
  void aHungServerIsSeenAsHungAndKilledAtItsTimeouts() {
    List<Long> tree = PgNodes.processTree(s);
    nodes.signal("STOP", tree);
    try {
      LocalFacts f = opsS.facts().read();
      assertEquals(PgStatus.HUNG, f.status(), f.toString());
      assertTrue(f.queryMs() < 3_000, "facts gave up after " + f.queryMs() + " ms");
      System.out.println("MEASURE facts of a hung server = " + f.queryMs() + " ms");

      Probe.Result p = Probe.probe("127.0.0.1", s.port(), Duration.ofMillis(300));
      assertFalse(p.alive(), p.toString());
      assertTrue(p.detail().startsWith("no answer"), p.detail());

      var e = assertThrows(PgOpException.CommandFailed.class,
          () -> opsT.basebackup().clone(upstream(s), null, null, Duration.ofSeconds(1), null));
      assertTrue(e.timedOut(), e.getMessage());
      assertTrue(e.result().elapsedMs() < 4_000, "killed at its timeout: " + e.result().elapsedMs() + " ms");
      assertTUntouched();

      long t0 = System.nanoTime();
      assertEquals(PgCluster.Stopped.KILLED, opsS.cluster().stop(PgCluster.StopMode.FAST, Duration.ofSeconds(1)));
      System.out.println("MEASURE stop of a hung server (fast 1 s, immediate 1 s, SIGKILL) = "
          + (System.nanoTime() - t0) / 1_000_000 + " ms");
      assertFalse(opsS.cluster().isRunning());
    } finally {
      nodes.signal("CONT", tree);
    }
    // the SIGKILLed postmaster may still be a zombie: the restart must not trip over its lock files
    opsS.cluster().start();
    assertEquals(PgStatus.RUNNING, opsS.facts().read().status());
  }

  @Test
  @Order(6)
  void promotionReSendsTheRequestWhileStillInRecovery() {
    opsS.slots().ensure(Set.of("pgwarden_2"));
    opsT.basebackup().clone(upstream(s), "pgwarden_2", null, WAIT, null);
    opsT.cluster().start();
    opsT.facts().await("streaming", f -> f.walReceiver() != null && f.walReceiver().streaming(), WAIT, 10);
    long startup = PgNodes.processTree(t).stream().filter(pid -> cmdline(pid).contains("startup")).findFirst()
        .orElseThrow();
    // the startup process cannot act on the request while stopped: the promoter must keep asking
    nodes.signal("STOP", List.of(startup));
    Thread resume = new Thread(() -> {
      PgCluster.pause(350); // the length of the injected fault
      nodes.signal("CONT", List.of(startup));
    });
    resume.start();
    Promoter.Result r = opsT.promoter().promote();
    System.out.println("MEASURE promote with a stopped startup process: " + r.writableAfterMs() + " ms, "
        + r.resends() + " re-sends");
    assertTrue(r.resends() >= 2, r.toString());
    // the 350 ms run from before promote(), which first applies synchronous_standby_names (tens of ms,
    // more on a loaded machine): the request itself waits a little less
    assertTrue(r.writableAfterMs() >= 150, r.toString());
    assertFalse(opsT.facts().read().inRecovery());
    assertFalse(Files.exists(t.pgdata().resolve("promote")), "no leftover promote signal file");
  }

  private static String cmdline(long pid) {
    try {
      return Files.readString(Path.of("/proc/" + pid + "/cmdline")).replace('\0', ' ');
    } catch (IOException e) {
      return "";
    }
  }
}
