package io.pgwarden.persistence.read;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgwarden.model.FormationEvent;
import io.pgwarden.model.FormationSettings;
import io.pgwarden.model.JournalEvent;
import io.pgwarden.model.NodeAddress;
import io.pgwarden.model.NodeEvent;
import io.pgwarden.model.NodeSettings;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.Requester;
import io.pgwarden.model.TermSeq;
import io.pgwarden.persistence.JournalSerializer;
import io.pgwarden.persistence.JournalStore;
import io.pgwarden.persistence.Json;
import io.pgwarden.testing.TestPostgres;
import io.pgwarden.model.Lsn;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.junit.jupiter.api.Test;

/** The read side over a real journal written by Pekko persistence: H2 file and PostgreSQL. */
class EventLogTest {

  /** Persists what it is given under one persistence id, tagging each event with its formation. */
  static final class TaggedWriter extends EventSourcedBehavior<TaggedWriter.Append, JournalEvent, Integer> {
    record Append(List<JournalEvent> events, ActorRef<Integer> replyTo) {}

    private final String tag;

    static Behavior<Append> create(String persistenceId, String formation) {
      return new TaggedWriter(persistenceId, formation);
    }

    TaggedWriter(String persistenceId, String formation) {
      super(PersistenceId.ofUniqueId(persistenceId));
      this.tag = EventLog.tagOf(formation);
    }

    @Override
    public Integer emptyState() {
      return 0;
    }

    @Override
    public Set<String> tagsFor(JournalEvent event) {
      return Set.of(tag);
    }

    @Override
    public CommandHandler<Append, JournalEvent, Integer> commandHandler() {
      return newCommandHandlerBuilder().forAnyState()
          .onCommand(Append.class, (s, c) -> Effect().persist(c.events()).thenReply(c.replyTo(), st -> st))
          .build();
    }

    @Override
    public EventHandler<Integer, JournalEvent> eventHandler() {
      return newEventHandlerBuilder().forAnyState().onAnyEvent((s, e) -> s + 1);
    }
  }

  static final long T = 1_764_000_000_000L;
  static final Requester OP = new Requester("alice", "test", "");

  @Test
  void h2File() throws Exception {
    Path dir = Files.createTempDirectory("pgw-eventlog");
    try {
      exercise(JournalStore.h2File(dir.resolve("journal")));
    } finally {
      TestPostgres.deleteTree(dir);
    }
  }

  @Test
  void postgres() throws Exception {
    try (TestPostgres pg = TestPostgres.start("eventlog")) {
      exercise(new JournalStore(pg.jdbcUrl(), "postgres", ""));
    }
  }

  private static void write(ActorTestKit kit, String pid, String formation, JournalEvent... events) {
    TestProbe<Integer> probe = kit.createTestProbe();
    ActorRef<TaggedWriter.Append> w = kit.spawn(TaggedWriter.create(pid, formation));
    w.tell(new TaggedWriter.Append(List.of(events), probe.getRef()));
    probe.receiveMessage(Duration.ofSeconds(20));
    kit.stop(w);
  }

  private void exercise(JournalStore store) throws Exception {
    store.createSchema();
    long started = System.currentTimeMillis();
    ActorTestKit kit = ActorTestKit.create("eventlog", store.pekkoConfig());
    try (EventLog log = new EventLog(store)) {
      assertEquals(0, log.highestOrdering());
      assertEquals(List.of(), log.page("f_1", null, null, 10).events());

      // Interleave two formations whose names differ only where LIKE's '_' would match anything.
      write(kit, "formation|f_1", "f_1",
          new FormationEvent.FormationCreated("f_1", FormationSettings.DEFAULT, OP, T),
          new FormationEvent.TermRaised(1, "start", T + 1));
      write(kit, "formation|fx1", "fx1", new FormationEvent.FormationCreated("fx1", FormationSettings.DEFAULT, OP, T));
      write(kit, "node|fx1|1", "fx1", new NodeEvent.Fenced(1, T + 2));
      write(kit, "node|f_1|2", "f_1",
          new NodeEvent.Registered("f_1", 2, "n2", new NodeAddress("127.0.0.1", 5433), NodeSettings.DEFAULT, T + 3));
      write(kit, "node|f_1|10", "f_1",
          new NodeEvent.Registered("f_1", 10, "n10", new NodeAddress("127.0.0.1", 5434), NodeSettings.DEFAULT, T + 4),
          new NodeEvent.StateReached(NodeState.SECONDARY, new TermSeq(1, 2), 1, Lsn.parse("0/3000000"), T + 5));
      write(kit, "node|f_1|2", "f_1",
          new NodeEvent.StateReached(NodeState.SINGLE, new TermSeq(1, 1), 1, Lsn.parse("0/2000000"), T + 6));
      write(kit, "formation|f_1", "f_1", new FormationEvent.FormationDropped(OP, T + 7));

      // 1. newest first, by tag, with paging.
      EventLog.Page all = log.page("f_1", null, null, 100);
      assertEquals(7, all.events().size());
      assertNull(all.nextBefore());
      List<Long> orderings = all.events().stream().map(StoredEvent::ordering).toList();
      for (int i = 1; i < orderings.size(); i++) assertTrue(orderings.get(i - 1) > orderings.get(i), orderings.toString());
      StoredEvent newest = all.events().get(0);
      assertEquals("formation|f_1", newest.persistenceId());
      assertEquals(3, newest.sequenceNr());
      assertEquals("formation-dropped", newest.type());
      assertEquals(new FormationEvent.FormationDropped(OP, T + 7), newest.event());
      assertEquals(T + 7, newest.at());
      assertEquals(Json.MAPPER.readTree(Json.writeEvent(newest.event())), Json.MAPPER.readTree(newest.json()));
      assertTrue(newest.writeTimestamp() >= started, "write timestamp " + newest.writeTimestamp());
      assertTrue(all.events().stream().allMatch(StoredEvent::decoded));

      EventLog.Page p1 = log.page("f_1", null, null, 3);
      assertEquals(orderings.subList(0, 3), p1.events().stream().map(StoredEvent::ordering).toList());
      assertEquals(orderings.get(2), p1.nextBefore());
      EventLog.Page p2 = log.page("f_1", p1.nextBefore(), null, 3);
      assertEquals(orderings.subList(3, 6), p2.events().stream().map(StoredEvent::ordering).toList());
      EventLog.Page p3 = log.page("f_1", p2.nextBefore(), null, 3);
      assertEquals(orderings.subList(6, 7), p3.events().stream().map(StoredEvent::ordering).toList());
      assertNull(p3.nextBefore());

      // since: by the journal's write time.
      assertEquals(7, log.page("f_1", null, started - 60_000, 100).events().size());
      assertEquals(0, log.page("f_1", null, System.currentTimeMillis() + 60_000, 100).events().size());
      assertEquals(2, log.page("fx1", null, 0L, 100).events().size());
      assertThrows(IllegalArgumentException.class, () -> log.page("f_1", null, null, 0));

      // 2. after an ordering, oldest first.
      long third = orderings.get(2);
      List<StoredEvent> after = log.after("f_1", third, 100);
      assertEquals(List.of(orderings.get(1), orderings.get(0)), after.stream().map(StoredEvent::ordering).toList());
      assertEquals(log.highestOrdering(), log.afterAll(0, 100).get(log.afterAll(0, 100).size() - 1).ordering());
      assertEquals(9, log.afterAll(0, 100).size());
      assertEquals(orderings.get(0).longValue(), log.highestOrdering("f_1"));

      // 3. one persistence id in sequence order; the formation's ids by name.
      List<StoredEvent> n10 = log.byPersistenceId("node|f_1|10");
      assertEquals(List.of(1L, 2L), n10.stream().map(StoredEvent::sequenceNr).toList());
      assertEquals(List.of("node.registered", "node.state-reached"), n10.stream().map(StoredEvent::type).toList());
      assertEquals(List.of(3L), log.byPersistenceId("formation|f_1", 3, 3).stream().map(StoredEvent::sequenceNr).toList());
      assertEquals(List.of("formation|f_1", "node|f_1|2", "node|f_1|10"), log.persistenceIds("f_1"));
      assertEquals(List.of("formation|fx1", "node|fx1|1"), log.persistenceIds("fx1"));
      assertEquals(List.of(), log.persistenceIds("nope"));

      // The live tail: delivers in order, once.
      EventLog.Tail tail = log.tail("f_1", 0);
      List<Long> oldestFirst = new ArrayList<>(orderings);
      java.util.Collections.reverse(oldestFirst);
      assertEquals(oldestFirst, tail.poll().stream().map(StoredEvent::ordering).toList());
      assertEquals(List.of(), tail.poll());
      write(kit, "node|f_1|2", "f_1", new NodeEvent.HealthChanged(false, "probe", "refused", T + 8));
      List<StoredEvent> fresh = tail.poll();
      assertEquals(1, fresh.size());
      assertEquals("node.health-changed", fresh.get(0).type());

      // A row whose insert has not committed yet holds the tail back until it commits (or times out).
      AtomicLong clock = new AtomicLong();
      EventLog.Tail gapTail = log.tail("f_1", log.highestOrdering(), 1_000, clock::get);
      try (Connection c = store.connect()) {
        c.setAutoCommit(false);
        insertRaw(c, "node|f_1|50", 1, new NodeEvent.Fenced(2, T + 9));
        write(kit, "node|f_1|10", "f_1", new NodeEvent.Fenced(3, T + 10));
        assertEquals(List.of(), gapTail.poll(), "an event behind an uncommitted one is held back");
        c.commit();
      }
      // The committed raw row is untagged, so only the actor's event is delivered, after the hole filled.
      List<StoredEvent> afterGap = gapTail.poll();
      assertEquals(List.of("node.fenced"), afterGap.stream().map(StoredEvent::type).toList());
      assertEquals(new NodeEvent.Fenced(3, T + 10), afterGap.get(0).event());

      // A hole that never fills (a rolled-back insert) is stepped over after the gap timeout.
      EventLog.Tail holeTail = log.tail("f_1", log.highestOrdering(), 1_000, clock::get);
      try (Connection c = store.connect()) {
        c.setAutoCommit(false);
        insertRaw(c, "node|f_1|51", 1, new NodeEvent.Fenced(4, T + 11));
        c.rollback();
      }
      write(kit, "node|f_1|10", "f_1", new NodeEvent.Fenced(5, T + 12));
      assertEquals(List.of(), holeTail.poll());
      clock.addAndGet(999_000_000L);
      assertEquals(List.of(), holeTail.poll());
      clock.addAndGet(2_000_000L);
      assertEquals(List.of(new NodeEvent.Fenced(5, T + 12)), holeTail.poll().stream().map(StoredEvent::event).toList());

      // A row of a type this build does not know is returned undecoded, never dropped.
      try (Connection c = store.connect()) {
        c.setAutoCommit(true);
        insertRaw(c, "node|f_1|99", 1, "node.from-the-future", "{\"type\":\"node.from-the-future\",\"at\":5}");
      }
      StoredEvent unknown = log.byPersistenceId("node|f_1|99").get(0);
      assertFalse(unknown.decoded());
      assertEquals("node.from-the-future", unknown.type());
      assertEquals("{\"type\":\"node.from-the-future\",\"at\":5}", unknown.json());
      assertTrue(log.persistenceIds("f_1").contains("node|f_1|99"));
    } finally {
      kit.shutdownTestKit();
    }
  }

  private static void insertRaw(Connection c, String pid, long seq, JournalEvent e) throws Exception {
    insertRaw(c, pid, seq, JournalSerializer.typeName(e.getClass()),
        new String(Json.writeEvent(e), StandardCharsets.UTF_8));
  }

  private static void insertRaw(Connection c, String pid, long seq, String manifest, String json) throws Exception {
    try (PreparedStatement st = c.prepareStatement("INSERT INTO \"event_journal\" (\"persistence_id\", "
        + "\"sequence_number\", \"writer\", \"write_timestamp\", \"adapter_manifest\", \"event_payload\", "
        + "\"event_ser_id\", \"event_ser_manifest\") VALUES (?, ?, 'test', ?, '', ?, ?, ?)")) {
      st.setString(1, pid);
      st.setLong(2, seq);
      st.setLong(3, System.currentTimeMillis());
      st.setBytes(4, json.getBytes(StandardCharsets.UTF_8));
      st.setInt(5, JournalSerializer.IDENTIFIER);
      st.setString(6, manifest);
      st.executeUpdate();
    }
  }

  @Test
  void namesAndLimits() {
    assertEquals("formation:app", EventLog.tagOf("app"));
    assertEquals("node|app|3", EventLog.nodePersistenceId("app", 3));
    assertTrue(EventLog.validFormationName("a_b-9"));
    assertFalse(EventLog.validFormationName("9ab"));
    assertFalse(EventLog.validFormationName("A"));
    assertFalse(EventLog.validFormationName("a".repeat(64)));
  }
}
