package io.pgwarden.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pgwarden.model.JournalEvent;
import io.pgwarden.testing.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.Test;

/** Every event type goes into the real journal (H2 file, then PostgreSQL) and comes back intact. */
class JournalRoundTripTest {

  /** A minimal persistent actor: persists what it is given, replies with all it holds. */
  static final class Recorder extends EventSourcedBehavior<Object, JournalEvent, List<JournalEvent>> {
    record Append(List<JournalEvent> events, ActorRef<List<JournalEvent>> replyTo) {}

    record Get(ActorRef<List<JournalEvent>> replyTo) {}

    static Behavior<Object> create(String id) {
      return new Recorder(id);
    }

    Recorder(String id) {
      super(PersistenceId.ofUniqueId(id));
    }

    @Override
    public List<JournalEvent> emptyState() {
      return List.of();
    }

    @Override
    public CommandHandler<Object, JournalEvent, List<JournalEvent>> commandHandler() {
      return newCommandHandlerBuilder().forAnyState()
          .onCommand(Append.class, (s, c) -> Effect().persist(c.events()).thenReply(c.replyTo(), st -> st))
          .onCommand(Get.class, (s, c) -> Effect().reply(c.replyTo(), s))
          .build();
    }

    @Override
    public EventHandler<List<JournalEvent>, JournalEvent> eventHandler() {
      return newEventHandlerBuilder().forAnyState().onAnyEvent((s, e) -> {
        List<JournalEvent> n = new ArrayList<>(s);
        n.add(e);
        return n;
      });
    }
  }

  @Test
  void h2FileJournalSurvivesARestart() throws Exception {
    Path dir = Files.createTempDirectory("pgw-journal");
    try {
      roundTrip(JournalStore.h2File(dir.resolve("journal")));
    } finally {
      TestPostgres.deleteTree(dir);
    }
  }

  @Test
  void postgresJournalSurvivesARestart() throws Exception {
    try (TestPostgres pg = TestPostgres.start("journal")) {
      JournalStore store = new JournalStore(pg.jdbcUrl(), "postgres", "");
      roundTrip(store);
      store.createSchema(); // idempotent: a second run changes nothing and raises nothing
      try (var c = store.connect(); var st = c.createStatement()) {
        var e = org.junit.jupiter.api.Assertions.assertThrows(java.sql.SQLException.class,
            () -> st.execute("DELETE FROM event_journal"));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("never deleted"), e.getMessage());
      }
    }
  }

  private void roundTrip(JournalStore store) throws Exception {
    store.createSchema();
    store.createSchema();
    List<JournalEvent> events = SampleEvents.all();
    ActorTestKit kit = ActorTestKit.create("journal1", store.pekkoConfig());
    try {
      TestProbe<List<JournalEvent>> probe = kit.createTestProbe();
      var rec = kit.spawn(Recorder.create("rec|1"));
      rec.tell(new Recorder.Append(events, probe.getRef()));
      assertEquals(events, probe.receiveMessage(Duration.ofSeconds(20)));
    } finally {
      kit.shutdownTestKit();
    }
    ActorTestKit kit2 = ActorTestKit.create("journal2", store.pekkoConfig());
    try {
      TestProbe<List<JournalEvent>> probe = kit2.createTestProbe();
      var rec = kit2.spawn(Recorder.create("rec|1"));
      rec.tell(new Recorder.Get(probe.getRef()));
      assertEquals(events, probe.receiveMessage(Duration.ofSeconds(20)));
      JdbcReadJournal rj = PersistenceQuery.get(kit2.system())
          .getReadJournalFor(JdbcReadJournal.class, JdbcReadJournal.Identifier());
      List<EventEnvelope> read = rj.currentEventsByPersistenceId("rec|1", 0, Long.MAX_VALUE)
          .runWith(Sink.seq(), kit2.system()).toCompletableFuture().get(20, TimeUnit.SECONDS);
      assertEquals(events, read.stream().map(EventEnvelope::event).toList());
    } finally {
      kit2.shutdownTestKit();
    }
    try (var c = store.connect(); var st = c.createStatement()) {
      String q = store.kind() == JournalStore.Kind.H2
          ? "SELECT \"event_ser_manifest\" FROM \"event_journal\" ORDER BY \"ordering\""
          : "SELECT event_ser_manifest FROM event_journal ORDER BY ordering";
      List<String> manifests = new ArrayList<>();
      try (ResultSet rs = st.executeQuery(q)) {
        while (rs.next()) manifests.add(rs.getString(1));
      }
      assertEquals(events.stream().map(e -> JournalSerializer.typeName(e.getClass())).toList(), manifests);
    }
  }
}
