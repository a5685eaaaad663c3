package io.pgwarden.controller.app;

import io.pgwarden.controller.audit.RecordedEvent;
import io.pgwarden.persistence.read.EventLog;
import io.pgwarden.persistence.read.StoredEvent;
import java.util.ArrayList;
import java.util.List;

/** Reads a formation's journal for the audit: by persistence id, so that no event is skipped. */
final class AuditReading {
  private AuditReading() {}

  static List<RecordedEvent> journal(EventLog log, String formation) {
    List<RecordedEvent> out = new ArrayList<>();
    for (String pid : log.persistenceIds(formation)) {
      for (StoredEvent e : log.byPersistenceId(pid)) {
        if (e.event() != null) out.add(new RecordedEvent(e.persistenceId(), e.sequenceNr(), e.event()));
      }
    }
    return out;
  }
}
