package io.pgwarden.controller.actor;

import static io.pgwarden.controller.actor.ControllerFixture.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgwarden.api.ApiException;
import io.pgwarden.api.Dto;
import io.pgwarden.model.Lsn;
import io.pgwarden.model.NodeReport;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.PgStatus;
import io.pgwarden.model.ReportReply;
import io.pgwarden.model.Requester;
import io.pgwarden.model.TermSeq;
import io.pgwarden.model.WalReceiverInfo;
import io.pgwarden.persistence.JournalStore;
import io.pgwarden.testing.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The supervisor around the real core, on a real journal: H2 file and PostgreSQL. */
class FormationSupervisorTest {
  static final Requester OP = Requester.of("test", "");

  static NodeReport primaryReport(NodeState s, TermSeq executed, long term, String names) {
    return new NodeReport(s, executed, term, PgStatus.RUNNING, false, 42, 1, Lsn.parse("0/3000000"),
        Lsn.parse("0/3000000"), names, List.of(), null, null, false, null, null);
  }

  static NodeReport standbyReport(NodeState s, TermSeq executed, long term, int upstream) {
    return new NodeReport(s, executed, term, PgStatus.RUNNING, true, 42, 1, Lsn.parse("0/3000000"),
        Lsn.parse("0/3000000"), "", List.of(),
        new WalReceiverInfo("streaming", upstream, "127.0.0.1", 5401, 1, 20L), 30L, false, null, null);
  }

  /** Plays one keeper step: report the goal just received as reached. */
  static ReportReply reach(ControllerFixture c, int node, ReportReply last, boolean primary) {
    NodeState s = last.goal().state();
    TermSeq st = last.goal().stamp();
    NodeReport r = primary ? primaryReport(s, st, last.term(), last.syncStandbyNames())
        : standbyReport(s, st, last.term(), 1);
    return c.report("f", node, r);
  }

  @Test
  void h2JournalBootstrapRestartAndNoReplyBeforeTheJournal() throws Exception {
    Path dir = Files.createTempDirectory("pgw-sup");
    try (ControllerFixture c = new ControllerFixture(JournalStore.h2File(dir.resolve("j")), ControllerFixture.FAST,
        NodeProbe.TCP_CONNECT)) {
      scenario(c);
    } finally {
      TestPostgres.deleteTree(dir);
    }
  }

  @Test
  void postgresJournalBootstrapAndRestart() throws Exception {
    try (TestPostgres pg = TestPostgres.start("sup");
        ControllerFixture c = new ControllerFixture(new JournalStore(pg.jdbcUrl(), "postgres", ""),
            ControllerFixture.FAST, NodeProbe.TCP_CONNECT)) {
      scenario(c);
    }
  }

  private void scenario(ControllerFixture c) throws Exception {
    get(c.service.createFormation(new Dto.CreateFormation("f", "app", null, null, "test"), OP));
    ApiException dup = org.junit.jupiter.api.Assertions.assertThrows(ApiException.class,
        () -> get(c.service.createFormation(new Dto.CreateFormation("f", null, null, null, null), OP)));
    assertEquals(409, dup.status());
    Dto.Registration a = c.register("f", "a", 5401);
    assertEquals(NodeState.SINGLE, a.goal().state());
    assertTrue(a.credential().startsWith("pgwn_"));
    assertTrue(c.credentials.find(ControllerServiceImpl.sha256(a.credential())).isPresent());
    ReportReply ra = c.report("f", a.nodeId(), primaryReport(NodeState.INIT, TermSeq.NONE, 0, ""));
    assertEquals(NodeState.SINGLE, ra.goal().state());
    assertJournaled(c, ra.goal().stamp());
    ra = reach(c, a.nodeId(), ra, true);

    // the long-poll: a's report is held until b's arrival changes a's goal
    CompletableFuture<ReportReply> held = c.service.report("f", a.nodeId(),
        primaryReport(NodeState.SINGLE, ra.goal().stamp(), ra.term(), ""), ra.goal().stamp(), Duration.ofSeconds(8))
        .toCompletableFuture();
    Dto.Registration b = c.register("f", "b", 5402);
    assertEquals(NodeState.WAIT_STANDBY, b.goal().state());
    long t0 = System.nanoTime();
    c.report("f", b.nodeId(), standbyReport(NodeState.WAIT_STANDBY, b.goal().stamp(), b.term(), 1));
    ReportReply woken = held.get(5, TimeUnit.SECONDS);
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(NodeState.WAIT_PRIMARY, woken.goal().state());
    assertTrue(ms < 2_000, "the held report was answered at the goal change, not at its wait: " + ms + " ms");
    assertJournaled(c, woken.goal().stamp());

    // converge to primary / secondary
    ReportReply rb = c.report("f", b.nodeId(), standbyReport(NodeState.WAIT_STANDBY, b.goal().stamp(), b.term(), 1));
    ra = woken;
    for (int i = 0; i < 20 && (ra.goal().state() != NodeState.PRIMARY || rb.goal().state() != NodeState.SECONDARY);
        i++) {
      ra = reach(c, a.nodeId(), ra, true);
      rb = reach(c, b.nodeId(), rb, false);
    }
    ra = reach(c, a.nodeId(), ra, true); // both report the goals they reached
    rb = reach(c, b.nodeId(), rb, false);
    assertEquals(NodeState.PRIMARY, ra.goal().state());
    assertEquals(NodeState.SECONDARY, rb.goal().state());
    assertEquals("ANY 1 (pgwarden_" + b.nodeId() + ")", ra.syncStandbyNames());
    assertTrue(ra.lease() != null);

    // reports that change nothing write nothing; first let the node actors journal the states reached
    // (they are told after the supervisor answered, and write on their own)
    awaitNodeState(c, a.nodeId(), "primary");
    awaitNodeState(c, b.nodeId(), "secondary");
    long rows = rows(c);
    for (int i = 0; i < 30; i++) {
      ra = reach(c, a.nodeId(), ra, true);
      rb = reach(c, b.nodeId(), rb, false);
    }
    assertEquals(rows, rows(c), () -> "steady reports must not write to the journal: " + newest(c, rows));

    // restart on the same journal
    long term = get(c.service.state("f")).term();
    c.restart();
    Dto.FormationState st = get(c.service.state("f"));
    assertEquals(term + 1, st.term(), "a controller start raises the term");
    assertEquals(NodeState.PRIMARY, st.nodes().get(0).assignedState());
    assertEquals(NodeState.SECONDARY, st.nodes().get(1).assignedState());
    assertTrue(c.credentials.find(ControllerServiceImpl.sha256(b.credential())).isPresent(),
        "credentials come back from the journal");
    ReportReply after = reach(c, a.nodeId(), ra, true);
    assertEquals(term + 1, after.term());
    assertEquals(term + 1, after.lease().term());
    assertEquals(ra.goal(), after.goal(), "same goal: nothing to redo after a restart");
  }

  /** The reply carried a stamp: the decision with that stamp is already in the journal. */
  private static void assertJournaled(ControllerFixture c, TermSeq stamp) throws Exception {
    String pattern = "\"stamp\":{\"term\":" + stamp.term() + ",\"seq\":" + stamp.seq() + "}";
    boolean h2 = c.store.kind() == JournalStore.Kind.H2;
    String q = h2 ? "SELECT \"event_payload\" FROM \"event_journal\" WHERE \"event_ser_manifest\" = 'decided'"
        : "SELECT event_payload FROM event_journal WHERE event_ser_manifest = 'decided'";
    try (var conn = c.store.connect(); var st = conn.createStatement(); ResultSet rs = st.executeQuery(q)) {
      while (rs.next()) {
        if (new String(rs.getBytes(1), java.nio.charset.StandardCharsets.UTF_8).contains(pattern)) return;
      }
    }
    throw new AssertionError("no journaled decision with stamp " + stamp);
  }

  /** The journal rows after the first {@code skip}, as "persistence id: payload", for a failure message. */
  private static String newest(ControllerFixture c, long skip) {
    boolean h2 = c.store.kind() == JournalStore.Kind.H2;
    String q = h2 ? "SELECT \"persistence_id\", \"event_payload\" FROM \"event_journal\" ORDER BY \"ordering\""
        : "SELECT persistence_id, event_payload FROM event_journal ORDER BY ordering";
    StringBuilder sb = new StringBuilder();
    try (var conn = c.store.connect(); var st = conn.createStatement(); ResultSet rs = st.executeQuery(q)) {
      for (long i = 0; rs.next(); i++) {
        if (i >= skip) {
          sb.append(rs.getString(1)).append(": ")
              .append(new String(rs.getBytes(2), java.nio.charset.StandardCharsets.UTF_8)).append('\n');
        }
      }
    } catch (java.sql.SQLException e) {
      return e.toString();
    }
    return sb.toString();
  }

  private static void awaitNodeState(ControllerFixture c, int node, String state) {
    try (var log = new io.pgwarden.persistence.read.EventLog(c.store)) {
      long end = System.nanoTime() + 10_000_000_000L;
      while (log.byPersistenceId(io.pgwarden.node.NodeActor.persistenceId("f", node)).stream()
          .noneMatch(e -> e.event() instanceof io.pgwarden.model.NodeEvent.StateReached r
              && r.state().wireName().equals(state))) {
        if (System.nanoTime() > end) throw new AssertionError("node " + node + " never journaled " + state);
        Thread.onSpinWait();
      }
    }
  }

  private static long rows(ControllerFixture c) throws Exception {
    String q = c.store.kind() == JournalStore.Kind.H2 ? "SELECT COUNT(*) FROM \"event_journal\""
        : "SELECT COUNT(*) FROM event_journal";
    try (var conn = c.store.connect(); var st = conn.createStatement(); ResultSet rs = st.executeQuery(q)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
