package io.pgwarden.controller.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgwarden.controller.audit.bench.BenchJournal;
import io.pgwarden.controller.audit.bench.JournalRows;
import io.pgwarden.controller.core.AuditScenarios;
import io.pgwarden.controller.core.AuditScenarios.Recording;
import io.pgwarden.persistence.JournalStore;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The journal tables as pekko-persistence-jdbc writes them, read back for the audit (H2 in memory). */
class AuditJournalTest {

  @Test
  void aJournalWrittenInItsOwnFormatReplaysToTheSameReport() throws Exception {
    Recording r = AuditScenarios.twoNodeFailover(8192);
    JournalStore store = JournalStore.h2Memory("audit-journal-" + System.nanoTime());
    store.createSchema();
    try (Connection c = store.connect()) {
      long n = JournalRows.write(c, r.events().stream().map(JournalRows.Row::of).iterator(), "w1");
      assertEquals(r.events().size(), n);
      try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT COUNT(*), MIN(\"ordering\"),"
          + " MAX(\"event_ser_id\") FROM \"event_journal\" JOIN \"event_tag\" ON \"event_id\" = \"ordering\"")) {
        rs.next();
        assertEquals(n, rs.getLong(1), "one tag per event");
        assertEquals(7_301, rs.getInt(3));
      }
      AuditJournal j = new AuditJournal();
      Map<String, List<String>> ids = j.persistenceIdsByFormation(c);
      assertEquals(List.of("formation|f", "node|f|1", "node|f|2"), ids.get("f"));
      AuditReport fromDb = j.audit(c, "f", AuditQuery.all());
      assertEquals(AuditReplay.replay("f", r.events(), AuditQuery.all()), fromDb);
      assertEquals(8192L, fromDb.incidents().get(0).bytesDiscarded());
    }
  }

  @Test
  void manyFormationsInterleavedInTimeAreReadApart() throws Exception {
    List<BenchJournal.Template> t = List.of(BenchJournal.template("small", AuditScenarios.cycles(2)));
    int size = t.get(0).events().size();
    JournalStore store = JournalStore.h2Memory("audit-journal-" + System.nanoTime());
    store.createSchema();
    try (Connection c = store.connect()) {
      JournalRows.write(c, BenchJournal.rows(t, 3L * size - 5, 300), "w1");
      AuditJournal j = new AuditJournal();
      Map<String, List<String>> ids = j.persistenceIdsByFormation(c);
      assertEquals(List.of("f0000", "f0001", "f0002"), List.copyOf(ids.keySet()));
      AuditReport first = j.audit(c, "f0000", AuditQuery.all());
      AuditReport second = j.audit(c, "f0001", AuditQuery.all());
      assertEquals(size, first.journal().events());
      assertEquals(first.incidents().size(), second.incidents().size());
      assertEquals(first.incidents().get(0).startedAt() + 300, second.incidents().get(0).startedAt());
      AuditReport cut = j.audit(c, "f0002", AuditQuery.all());
      assertEquals(size - 5, cut.journal().events());
      assertTrue(cut.findings().stream().noneMatch(f -> f.kind().equals("sequence-gap")), cut.findings().toString());
    }
  }

  @Test
  void eventsOfAnotherSerializerAreRefused() {
    AuditJournal j = new AuditJournal();
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> j.decode("formation|f", 3, 33, "x", new byte[] {1}));
    assertTrue(e.getMessage().contains("serializer 33"), e.getMessage());
    IllegalStateException u = assertThrows(IllegalStateException.class,
        () -> j.decode("formation|f", 4, 7_301, "no-such-type", "{}".getBytes()));
    assertTrue(u.getMessage().contains("formation|f #4"), u.getMessage());
  }
}
