package io.pgwarden.keeper.pg;

import static io.pgwarden.keeper.pg.PgNodes.exec;
import static io.pgwarden.keeper.pg.PgNodes.one;
import static io.pgwarden.keeper.pg.PgNodes.upstream;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgwarden.model.Lsn;
import io.pgwarden.model.NodeReport;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.PgStatus;
import io.pgwarden.model.TermSeq;
import io.pgwarden.model.WalSenderInfo;
import io.pgwarden.os.Command;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * One formation's life on real PostgreSQL 15: a primary, a standby cloned through its slot, a
 * promotion, the old primary rewound (with writes it made after the fork thrown away and counted), a
 * rewind that cannot work falling back to pg_basebackup, and a SIGKILLed old primary rewound after a
 * single-user crash recovery. The steps build on each other.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FailoverCycleTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private PgNodes nodes;
  private LocalPg a;
  private LocalPg b;
  private PgOps opsA;
  private PgOps opsB;

  @BeforeAll
  void setUp() {
    nodes = new PgNodes("cycle");
    a = nodes.node(1);
    b = nodes.node(2);
    opsA = new PgOps(a);
    opsB = new PgOps(b);
  }

  @AfterAll
  void tearDown() {
    nodes.close();
  }

  private static void measure(String what, long ms) {
    System.out.println("MEASURE " + what + " = " + ms + " ms");
  }

  @Test
  @Order(1)
  void initStartAndFacts() throws IOException {
    long t0 = System.nanoTime();
    opsA.cluster().initdb();
    measure("initdb", (System.nanoTime() - t0) / 1_000_000);
    assertTrue(opsA.cluster().isCluster());
    assertFalse(opsA.cluster().isRunning());
    assertEquals(PgStatus.STOPPED, opsA.facts().read().status());

    assertTrue(opsA.cluster().start());
    assertFalse(opsA.cluster().start(), "a second start is a no-op");
    opsA.sql().ensureReplicationRole();
    opsA.sql().ensureReplicationRole(); // idempotent
    assertTrue(opsA.sql().createDatabaseIfMissing("app"));
    assertFalse(opsA.sql().createDatabaseIfMissing("app"));
    opsA.writeHbaAndReload(PgNodes.peers(a, b));

    LocalFacts f = opsA.facts().read();
    assertEquals(PgStatus.RUNNING, f.status(), f.detail());
    assertFalse(f.inRecovery());
    assertEquals(1, f.timeline());
    assertEquals(1, f.checkpointTimeline());
    assertTrue(f.lsn().compareTo(Lsn.ZERO) > 0);
    assertEquals(opsA.cluster().systemIdentifier(), f.systemIdentifier());
    assertEquals("", f.syncStandbyNames());
    assertTrue(f.walSenders().isEmpty());
    assertNull(f.walReceiver());
    measure("facts query (primary)", f.queryMs());

    // our settings are in effect, from our file
    assertEquals("2s", one(a, "SHOW wal_receiver_timeout"));
    assertEquals("200ms", one(a, "SHOW wal_retrieve_retry_interval"));
    assertEquals("256MB", one(a, "SHOW wal_keep_size"));
    assertEquals("off", one(a, "SHOW restart_after_crash"));
    assertEquals("on", one(a, "SHOW wal_log_hints"));
    assertTrue(one(a, "SELECT sourcefile FROM pg_settings WHERE name = 'wal_sender_timeout'").endsWith("pgwarden.conf"));
    String hba = Files.readString(a.pgdata().resolve("pg_hba.conf"));
    assertTrue(hba.startsWith(HbaConfig.BEGIN), hba);
    assertFalse(hba.matches("(?s).*host\\s+all\\s+all\\s+\\S+\\s+trust.*"), "no blanket trust rule:\n" + hba);

    NodeReport r = f.toReport(NodeState.SINGLE, TermSeq.NONE, 1, null, false, null, null, (h, p) -> null);
    assertEquals(PgStatus.RUNNING, r.pg());
    assertEquals(1, r.timeline());
  }

  @Test
  @Order(2)
  void standbyClonedThroughItsSlotStreams() throws IOException {
    assertEquals(Set.of("pgwarden_2"), opsA.slots().ensure(Set.of("pgwarden_2")).created());
    exec(a, "CREATE TABLE t (id int, pad text)", "INSERT INTO t SELECT g, 'before' FROM generate_series(1, 100) g");
    // from here on, plain commits on node 1 wait for node 2
    opsA.sql().setSynchronousStandbyNames("ANY 1 (pgwarden_2)");
    opsA.sql().setDefaultReadOnly(false);

    List<BaseBackup.Progress> progress = new ArrayList<>();
    BaseBackup.Result clone = opsB.basebackup().clone(upstream(a), "pgwarden_2", null, Duration.ofMinutes(2),
        progress::add);
    measure("pg_basebackup clone (" + clone.totalKb() + " kB)", clone.elapsedMs());
    assertFalse(progress.isEmpty(), "progress was reported");
    assertEquals(100, progress.get(progress.size() - 1).percent());
    assertTrue(Files.exists(b.pgdata().resolve("standby.signal")));
    // the clone carries its own node settings, not the source's, and no inherited replication settings
    assertTrue(Files.readString(b.pgdata().resolve(NodeConfig.FILE)).contains("port = " + b.port()));
    assertEquals(ReplicationConfig.Values.DEFAULTS, new ReplicationConfig(b).read());
    assertTrue(Files.readString(b.pgdata().resolve(StandbyConfig.FILE)).contains("primary_slot_name = 'pgwarden_2'"));

    long t0 = System.nanoTime();
    opsB.cluster().start();
    LocalFacts fb = opsB.facts().await("streaming", x -> x.running() && x.walReceiver() != null
        && x.walReceiver().streaming(), WAIT, 10);
    measure("standby start -> streaming", (System.nanoTime() - t0) / 1_000_000);
    assertTrue(fb.inRecovery());
    assertEquals(1, fb.timeline());
    assertEquals(a.port(), fb.walReceiver().senderPort());
    assertEquals("127.0.0.1", fb.walReceiver().senderHost());
    assertNotNull(fb.walReceiver().lastMsgAgeMs());
    assertTrue(fb.walReceiver().lastMsgAgeMs() < 2_000, "age " + fb.walReceiver().lastMsgAgeMs());
    assertEquals("", fb.syncStandbyNames());

    LocalFacts fa = opsA.facts().await("sync standby", x -> x.walSender(2) != null
        && "quorum".equals(x.walSender(2).syncState()), WAIT, 10);
    WalSenderInfo w = fa.walSender(2);
    assertEquals("streaming", w.state());
    assertEquals("pgwarden_2", w.applicationName());
    assertNotNull(w.replyAgeMs());
    assertEquals("ANY 1 (pgwarden_2)", fa.syncStandbyNames());
    // synchronous commits work with the standby attached
    exec(a, "INSERT INTO t SELECT g, 'sync' FROM generate_series(101, 200) g");
    Lsn target = opsA.facts().read().lsn();
    opsB.facts().awaitReplay(1, target, WAIT);
    assertEquals("200", one(b, "SELECT count(*) FROM t"));
    NodeReport rep = fb.toReport(NodeState.SECONDARY, TermSeq.NONE, 1, 5L, false, null, null,
        (h, p) -> p == a.port() ? 1 : null);
    assertEquals(1, rep.walReceiver().upstreamNodeId());
  }

  @Test
  @Order(3)
  void promotion() throws IOException {
    Promoter.Result p = opsB.promoter().promote();
    measure("promote: request -> writable", p.writableAfterMs());
    measure("promote: CHECKPOINT after", p.checkpointMs());
    measure("promote: total incl. sync-names reload and cleanup", p.totalMs());
    System.out.println("MEASURE promote re-sends = " + p.resends());
    assertFalse(p.alreadyPrimary());
    assertEquals(2, p.timeline());
    assertTrue(p.writableAfterMs() < 2_000, "promotion took " + p.writableAfterMs() + " ms");
    LocalFacts f = opsB.facts().read();
    assertFalse(f.inRecovery());
    assertEquals(2, f.timeline());
    assertEquals(2, f.checkpointTimeline(), "the promote step checkpointed");
    assertFalse(Files.exists(b.pgdata().resolve("standby.signal")));
    assertFalse(Files.exists(b.pgdata().resolve(StandbyConfig.FILE)));
    exec(b, "INSERT INTO t SELECT g, 'new primary' FROM generate_series(1001, 1100) g");
    assertTrue(opsB.promoter().promote().alreadyPrimary(), "promote is idempotent");
  }

  @Test
  @Order(4)
  void oldPrimaryRewoundAndStreamingAgain() throws IOException {
    // the old primary still runs and takes local-only commits after the fork: they must go, and be counted
    exec(a, "SET synchronous_commit = local",
        "INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(5001, 8000) g");
    assertEquals("3200", one(a, "SELECT count(*) FROM t"));
    opsB.slots().ensure(Set.of("pgwarden_1"));
    opsB.writeHbaAndReload(PgNodes.peers(a, b));

    RejoinResult r = opsA.rewinder().rewindOrClone(upstream(b), "pgwarden_1", null, null, null);
    measure("pg_rewind of a cleanly stopped old primary (incl. stop)", r.elapsedMs());
    System.out.println("MEASURE rewind bytes discarded = " + r.bytesDiscarded() + " (old end " + r.oldEnd()
        + ", fork " + r.forkLsn() + ")");
    assertEquals(RejoinResult.PG_REWIND, r.method(), String.valueOf(r.fallbackReason()));
    assertEquals(1, r.fromTimeline());
    assertEquals(2, r.toTimeline());
    assertNotNull(r.forkLsn());
    assertTrue(r.bytesDiscarded() > 500_000, "bytes discarded " + r.bytesDiscarded());
    assertEquals("pg_rewind", r.toRejoinInfo(new TermSeq(2, 1)).method());
    // its own configuration again, as a standby of the new primary
    assertTrue(Files.readString(a.pgdata().resolve(NodeConfig.FILE)).contains("port = " + a.port()));
    assertEquals(ReplicationConfig.Values.DEFAULTS, new ReplicationConfig(a).read());
    assertTrue(Files.exists(a.pgdata().resolve("standby.signal")));

    long t0 = System.nanoTime();
    opsA.cluster().start();
    LocalFacts f = opsA.facts().awaitReplay(2, opsB.facts().read().lsn(), WAIT);
    measure("rewound node start -> streaming and caught up", (System.nanoTime() - t0) / 1_000_000);
    assertEquals(2, f.timeline());
    assertEquals(b.port(), f.walReceiver().senderPort());
    assertEquals("300", one(a, "SELECT count(*) FROM t"), "the old primary's post-fork rows are gone");
    assertEquals("0", one(a, "SELECT count(*) FROM t WHERE id > 5000"));
    opsB.facts().await("walsender of node 1", x -> x.walSender(1) != null, WAIT, 10);
  }

  @Test
  @Order(5)
  void failedRewindFallsBackToBasebackup() throws IOException {
    // node 1 (standby) is promoted while node 2 keeps writing: node 2 diverges on timeline 2
    assertEquals(3, opsA.promoter().promote().timeline());
    exec(b, "INSERT INTO t SELECT g, repeat('y', 200) FROM generate_series(9001, 11000) g");
    opsA.slots().ensure(Set.of("pgwarden_2"));
    opsA.writeHbaAndReload(PgNodes.peers(a, b));
    // and loses its WAL, so pg_rewind cannot find the last common checkpoint
    opsB.cluster().stop(PgCluster.StopMode.FAST);
    try (Stream<Path> s = Files.list(b.pgdata().resolve("pg_wal"))) {
      for (Path p : s.filter(p -> p.getFileName().toString().matches("[0-9A-F]{24}")).toList()) Files.delete(p);
    }

    RejoinResult r = opsB.rewinder().rewindOrClone(upstream(a), "pgwarden_2", null, null, null);
    measure("failed pg_rewind + pg_basebackup fallback", r.elapsedMs());
    assertEquals(RejoinResult.PG_BASEBACKUP, r.method());
    assertNotNull(r.fallbackReason());
    assertTrue(r.fallbackReason().contains("pg_rewind"), r.fallbackReason());
    assertEquals(2, r.fromTimeline());
    assertEquals(3, r.toTimeline());
    assertTrue(r.bytesDiscarded() > 0, "bytes " + r.bytesDiscarded());

    opsB.cluster().start();
    LocalFacts f = opsB.facts().awaitReplay(3, opsA.facts().read().lsn(), WAIT);
    assertEquals(3, f.timeline());
    assertEquals("0", one(b, "SELECT count(*) FROM t WHERE id > 9000"));
  }

  @Test
  @Order(6)
  void killedOldPrimaryIsRecoveredThenRewound() {
    // node 2 (standby of node 1) is promoted WITHOUT the promoter's CHECKPOINT, after replaying enough
    // changes that PostgreSQL's own post-promotion checkpoint is spread over many seconds: the rewind must
    // notice that the source's pg_control still names the old timeline, and make it checkpoint
    exec(a, "INSERT INTO t SELECT g, repeat('w', 300) FROM generate_series(12001, 17000) g");
    opsB.facts().awaitReplay(3, opsA.facts().read().lsn(), WAIT);
    Command.Result pr = Command.of("pg_ctl promote", b.bin().argv("pg_ctl", "promote", "-w", "-D",
        b.pgdata().toString()), WAIT).runningAs(b.pgUser()).run();
    assertTrue(pr.ok(), pr.describe());
    LocalFacts fb = opsB.facts().read();
    assertEquals(4, fb.timeline());
    assertEquals(3, fb.checkpointTimeline(), "test precondition: no checkpoint on the new timeline yet");
    // node 1 writes locally, then its postmaster is SIGKILLed
    exec(a, "INSERT INTO t SELECT g, repeat('z', 200) FROM generate_series(20001, 23000) g");
    Lsn lastSeen = opsA.facts().read().lsn();
    long pid = opsA.cluster().postmasterPid().orElseThrow();
    ProcessHandle.of(pid).orElseThrow().destroyForcibly();
    PgNodes.await("postmaster dead", WAIT, () -> !opsA.cluster().isRunning());
    opsB.slots().ensure(Set.of("pgwarden_1"));
    opsB.writeHbaAndReload(PgNodes.peers(a, b));

    RejoinResult r = opsA.rewinder().rewindOrClone(upstream(b), "pgwarden_1", null, null, null);
    measure("crash recovery + pg_rewind of a SIGKILLed old primary", r.elapsedMs());
    System.out.println("MEASURE killed-primary bytes discarded = " + r.bytesDiscarded());
    assertEquals(RejoinResult.PG_REWIND, r.method(), String.valueOf(r.fallbackReason()));
    assertEquals(3, r.fromTimeline());
    assertEquals(4, r.toTimeline());
    assertTrue(r.oldEnd().compareTo(lastSeen) >= 0, "old end " + r.oldEnd() + " covers the last LSN seen " + lastSeen);
    assertTrue(r.bytesDiscarded() > 500_000, "bytes " + r.bytesDiscarded());
    assertEquals(4, opsB.facts().read().checkpointTimeline(), "the rewind made the source checkpoint");

    opsA.cluster().start();
    opsA.facts().awaitReplay(4, opsB.facts().read().lsn(), WAIT);
    assertEquals("0", one(a, "SELECT count(*) FROM t WHERE id > 20000"));
  }

  @Test
  @Order(7)
  void rewindRefusesASourceOnItsOwnTimelineOrAStandby() {
    // node 1 is a standby of node 2: node 2 as source is fine (no rewind needed); node 1 as a source is not
    PgOpException.Refused e = assertThrows(PgOpException.Refused.class,
        () -> opsB.rewinder().rewind(upstream(a), "pgwarden_2", null));
    assertEquals(PgOpException.Refused.Reason.SOURCE_IN_RECOVERY, e.reason());
    assertTrue(opsB.cluster().isRunning(), "a refused rewind changes nothing");
    assertTrue(e.getMessage().contains("node 2"), e.getMessage());
  }
}
