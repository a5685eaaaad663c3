package io.pgwarden.controller.audit;

import io.pgwarden.controller.audit.AuditReport.FormationSnapshot;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.PriorityQueue;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Replays a formation's journal into an {@link AuditReport}. Pure: the same events and query always give
 * the same report. The events of one formation are its supervisor's ({@code formation|f}) and all its
 * nodes' ({@code node|f|id}); they are merged in time order, ties broken by persistence id and then by
 * sequence number, and every persistence id's own order is kept even where its clock went backwards.
 */
public final class AuditReplay {
  /** Merge order of the heads of the streams: time, then persistence id, then sequence number. */
  public static final Comparator<RecordedEvent> ORDER = Comparator.comparingLong(RecordedEvent::at)
      .thenComparing(RecordedEvent::persistenceId).thenComparingLong(RecordedEvent::sequenceNr);

  private AuditReplay() {}

  /**
   * The audit of {@code formation}. {@code events} may hold any formations' events in any order; those of
   * other formations are left out.
   */
  public static AuditReport replay(String formation, List<RecordedEvent> events, AuditQuery q) {
    AuditFold fold = new AuditFold(formation, q);
    Iterator<RecordedEvent> it = merge(streams(formation, events));
    while (it.hasNext()) fold.accept(it.next());
    return fold.report();
  }

  /** The formation as its journal states it at instant {@code at} (every event with {@code at() <= at}). */
  public static FormationSnapshot stateAt(String formation, List<RecordedEvent> events, long at) {
    return replay(formation, events, AuditQuery.all().at(at).lanes(false)).stateAt();
  }

  /** The formations that {@code events} hold, by name. */
  public static SortedSet<String> formations(Collection<RecordedEvent> events) {
    SortedSet<String> out = new TreeSet<>();
    for (RecordedEvent e : events) {
      String f = e.formation();
      if (f != null) out.add(f);
    }
    return out;
  }

  /** The formation's events, one list per persistence id in sequence order, persistence ids in order. */
  public static List<List<RecordedEvent>> streams(String formation, Collection<RecordedEvent> events) {
    TreeMap<String, List<RecordedEvent>> by = new TreeMap<>();
    for (RecordedEvent e : events) {
      if (RecordedEvent.belongsTo(e.persistenceId(), formation)) {
        by.computeIfAbsent(e.persistenceId(), k -> new ArrayList<>()).add(e);
      }
    }
    List<List<RecordedEvent>> out = new ArrayList<>();
    for (List<RecordedEvent> l : by.values()) {
      l.sort(Comparator.comparingLong(RecordedEvent::sequenceNr));
      out.add(l);
    }
    return out;
  }

  /** Merges streams that are each in sequence order (see {@link #ORDER}). */
  public static Iterator<RecordedEvent> merge(List<? extends Iterable<RecordedEvent>> streams) {
    List<Iterator<RecordedEvent>> its = new ArrayList<>();
    for (Iterable<RecordedEvent> s : streams) its.add(s.iterator());
    return mergeIterators(its);
  }

  /** As {@link #merge}, for streams read lazily (one cursor per persistence id). */
  public static Iterator<RecordedEvent> mergeIterators(List<Iterator<RecordedEvent>> streams) {
    record Head(RecordedEvent e, Iterator<RecordedEvent> rest) {}
    PriorityQueue<Head> heads = new PriorityQueue<>(Math.max(1, streams.size()),
        (a, b) -> ORDER.compare(a.e(), b.e()));
    for (Iterator<RecordedEvent> it : streams) {
      if (it.hasNext()) heads.add(new Head(it.next(), it));
    }
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return !heads.isEmpty();
      }

      @Override
      public RecordedEvent next() {
        Head h = heads.poll();
        if (h == null) throw new NoSuchElementException();
        if (h.rest().hasNext()) heads.add(new Head(h.rest().next(), h.rest()));
        return h.e();
      }
    };
  }
}
