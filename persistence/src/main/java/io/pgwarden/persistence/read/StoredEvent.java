package io.pgwarden.persistence.read;

import io.pgwarden.model.JournalEvent;

/**
 * One row of the journal as the read side returns it.
 *
 * @param ordering the journal's global position (event_journal.ordering); grows with every write
 * @param persistenceId "formation|&lt;name&gt;" or "node|&lt;formation&gt;|&lt;id&gt;"
 * @param sequenceNr the event's position within its persistence id, from 1
 * @param writeTimestamp when the journal stored the row (epoch ms); null when the row has none
 * @param type the stable event type name (the serializer manifest)
 * @param event the decoded event, or null when this build cannot decode the row (an unknown type name
 *     from a newer build, or a payload of another serializer); {@code json} still holds its payload
 * @param json the stored payload as text (our events are JSON); null for a payload that is not JSON
 */
public record StoredEvent(
    long ordering, String persistenceId, long sequenceNr, Long writeTimestamp, String type, JournalEvent event,
    String json) {

  /** The event's own time (its {@code at}), else the journal's write time, else 0. */
  public long at() {
    if (event != null) return event.at();
    return writeTimestamp == null ? 0 : writeTimestamp;
  }

  public boolean decoded() {
    return event != null;
  }
}
