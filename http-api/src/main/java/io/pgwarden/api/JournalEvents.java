package io.pgwarden.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgwarden.persistence.Json;
import io.pgwarden.persistence.read.EventLog;
import io.pgwarden.persistence.read.StoredEvent;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.NotUsed;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The journal as the API shows it: what a {@link ControllerService} needs for {@code events} and
 * {@code liveEvents}, read from an {@link EventLog}. JDBC blocks, so every read runs on {@code blocking}
 * (give it a dedicated dispatcher or a small thread pool, never the default dispatcher).
 */
public final class JournalEvents {
  private final EventLog log;
  private final Executor blocking;
  private final Duration pollInterval;

  public JournalEvents(EventLog log, Executor blocking, Duration pollInterval) {
    this.log = log;
    this.blocking = blocking;
    this.pollInterval = pollInterval;
  }

  /** One stored event as the API's EventView; a payload that is not JSON shows no {@code event}. */
  public static Dto.EventView view(StoredEvent e) {
    JsonNode json = null;
    if (e.json() != null) {
      try {
        json = Json.MAPPER.readTree(e.json());
      } catch (IOException ignored) {
        json = null;
      }
    }
    return new Dto.EventView(e.ordering(), e.persistenceId(), e.sequenceNr(), e.at(), e.type(), json);
  }

  /** A page of a formation's events, newest first (see {@link EventLog#page}). */
  public CompletionStage<Dto.EventPage> page(String formation, Long before, Long sinceMillis, int limit) {
    return CompletableFuture.supplyAsync(() -> {
      EventLog.Page p = log.page(formation, before, sinceMillis, limit);
      return new Dto.EventPage(p.events().stream().map(JournalEvents::view).toList(), p.nextBefore());
    }, blocking);
  }

  /**
   * The formation's events journaled after {@code afterOrdering}, oldest first, then live: the journal
   * is polled every {@code pollInterval} through an {@link EventLog.Tail}, one poll at a time.
   */
  public Source<Dto.EventView, NotUsed> live(String formation, long afterOrdering) {
    return Source.tick(Duration.ZERO, pollInterval, "poll")
        .mapMaterializedValue(c -> NotUsed.notUsed())
        .statefulMap(() -> log.tail(formation, afterOrdering), (tail, tick) -> Pair.create(tail, tail),
            tail -> Optional.empty())
        .mapAsync(1, tail -> CompletableFuture.supplyAsync(tail::poll, blocking))
        .mapConcat(events -> events.stream().map(JournalEvents::view).toList());
  }

  /** The newest ordering of a formation's events, 0 when none. */
  public CompletionStage<Long> newest(String formation) {
    return CompletableFuture.supplyAsync(() -> log.highestOrdering(formation), blocking);
  }
}
