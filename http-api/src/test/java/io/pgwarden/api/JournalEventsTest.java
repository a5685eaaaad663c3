package io.pgwarden.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.pgwarden.model.FormationEvent;
import io.pgwarden.model.FormationSettings;
import io.pgwarden.model.JournalEvent;
import io.pgwarden.model.NodeEvent;
import io.pgwarden.model.Requester;
import io.pgwarden.persistence.JournalSerializer;
import io.pgwarden.persistence.JournalStore;
import io.pgwarden.persistence.Json;
import io.pgwarden.persistence.read.EventLog;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.Test;

/** The EventLog → API adapter, over an in-memory H2 journal written with plain SQL. */
class JournalEventsTest {

  private static long insert(Connection c, String pid, long seq, String formation, JournalEvent e) throws Exception {
    try (PreparedStatement st = c.prepareStatement("INSERT INTO \"event_journal\" (\"persistence_id\", \"sequence_number\", "
        + "\"writer\", \"write_timestamp\", \"adapter_manifest\", \"event_payload\", \"event_ser_id\", \"event_ser_manifest\")"
        + " VALUES (?, ?, 'test', ?, '', ?, ?, ?)", Statement.RETURN_GENERATED_KEYS)) {
      st.setString(1, pid);
      st.setLong(2, seq);
      st.setLong(3, System.currentTimeMillis());
      st.setBytes(4, Json.writeEvent(e));
      st.setInt(5, JournalSerializer.IDENTIFIER);
      st.setString(6, JournalSerializer.typeName(e.getClass()));
      st.executeUpdate();
      long ordering;
      try (ResultSet keys = st.getGeneratedKeys()) {
        keys.next();
        ordering = keys.getLong(1);
      }
      try (PreparedStatement tag = c.prepareStatement("INSERT INTO \"event_tag\" (\"event_id\", \"tag\") VALUES (?, ?)")) {
        tag.setLong(1, ordering);
        tag.setString(2, EventLog.tagOf(formation));
        tag.executeUpdate();
      }
      return ordering;
    }
  }

  @Test
  void pagesAndLiveStreamComeFromTheJournal() throws Exception {
    JournalStore store = JournalStore.h2Memory("journal-events-" + System.nanoTime());
    store.createSchema();
    ExecutorService blocking = Executors.newFixedThreadPool(2);
    ActorTestKit kit = ActorTestKit.create("journal-events-test");
    try (EventLog log = new EventLog(store); Connection c = store.connect()) {
      c.setAutoCommit(true);
      Requester by = Requester.of("alice", "test");
      long o1 = insert(c, "formation|app", 1, "app", new FormationEvent.FormationCreated("app", FormationSettings.DEFAULT, by, 10));
      insert(c, "formation|other", 1, "other", new FormationEvent.FormationCreated("other", FormationSettings.DEFAULT, by, 11));
      long o3 = insert(c, "node|app|1", 1, "app", new NodeEvent.Fenced(1, 12));

      JournalEvents events = new JournalEvents(log, blocking, Duration.ofMillis(20));
      Dto.EventPage page = events.page("app", null, null, 10).toCompletableFuture().get(5, TimeUnit.SECONDS);
      assertEquals(List.of(o3, o1), page.events().stream().map(Dto.EventView::ordering).toList());
      assertNull(page.nextBefore());
      Dto.EventView fenced = page.events().get(0);
      assertEquals("node|app|1", fenced.persistenceId());
      assertEquals("node.fenced", fenced.type());
      assertEquals(12, fenced.at());
      assertEquals(1, fenced.event().get("term").asInt());
      assertEquals(o3, events.newest("app").toCompletableFuture().get(5, TimeUnit.SECONDS));

      CompletionStage<List<Dto.EventView>> live = events.live("app", o1).take(2).runWith(Sink.seq(), kit.system());
      Thread.sleep(100);
      long o4 = insert(c, "node|app|1", 2, "app", new NodeEvent.Fenced(2, 13));
      List<Dto.EventView> got = live.toCompletableFuture().get(5, TimeUnit.SECONDS);
      assertEquals(List.of(o3, o4), got.stream().map(Dto.EventView::ordering).toList());
    } finally {
      kit.shutdownTestKit();
      blocking.shutdownNow();
    }
  }
}
