package io.pgwarden.controller.audit.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgwarden.controller.audit.AuditReplay;
import io.pgwarden.controller.audit.RecordedEvent;
import io.pgwarden.controller.core.AuditScenarios;
import io.pgwarden.persistence.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.PriorityQueue;

/**
 * A large journal made of real decision-core histories: two templates recorded from the CoreHarness (two
 * nodes cycling through host failures with rewinds and switchovers; three nodes cycling through elections,
 * switchovers and standby maintenance), each replayed under many formation names, shifted in time so that
 * the formations' histories interleave, and emitted in time order as the controller would have written them.
 */
public final class BenchJournal {
  /** One recorded history, its events in merged order with their JSON trees. */
  public record Template(String name, List<RecordedEvent> events, List<ObjectNode> trees) {}

  private BenchJournal() {}

  /** Records the two templates, each about {@code eventsEach} events long. */
  public static List<Template> templates(int eventsEach) {
    int two = Math.max(1, eventsEach / 20);
    int three = Math.max(3, eventsEach / 26);
    return List.of(template("two-node", AuditScenarios.cycles(two)),
        template("three-node", AuditScenarios.threeNodeCycles(three)));
  }

  public static Template template(String name, AuditScenarios.Recording r) {
    List<RecordedEvent> merged = new ArrayList<>();
    AuditReplay.merge(AuditReplay.streams(r.formation(), r.events())).forEachRemaining(merged::add);
    List<ObjectNode> trees = new ArrayList<>();
    for (RecordedEvent e : merged) {
      try {
        trees.add((ObjectNode) Json.MAPPER.readTree(Json.writeEvent(e.event())));
      } catch (IOException x) {
        throw new UncheckedIOException(x);
      }
    }
    return new Template(name, List.copyOf(merged), trees);
  }

  public static String formationName(int i) {
    return String.format("f%04d", i);
  }

  /** How many formations {@code total} events make. */
  public static int formations(List<Template> templates, long total) {
    int i = 0;
    long left = total;
    while (left > 0) {
      left -= templates.get(i % templates.size()).events().size();
      i++;
    }
    return i;
  }

  /**
   * Exactly {@code total} rows: formation i replays template i mod 2, shifted by i·{@code spreadMs}; the last
   * formation is cut short (a prefix in time order, so every persistence id stays gap-free).
   */
  public static Iterator<JournalRows.Row> rows(List<Template> templates, long total, long spreadMs) {
    record Cursor(int formation, Template t, int limit, long shift, int[] next) {
      long at() {
        return t.events().get(next[0]).at() + shift;
      }
    }
    PriorityQueue<Cursor> q = new PriorityQueue<>((a, b) -> {
      int c = Long.compare(a.at(), b.at());
      return c != 0 ? c : Integer.compare(a.formation(), b.formation());
    });
    long left = total;
    for (int i = 0; left > 0; i++) {
      Template t = templates.get(i % templates.size());
      int n = (int) Math.min(left, t.events().size());
      left -= n;
      q.add(new Cursor(i, t, n, i * spreadMs, new int[] {0}));
    }
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return !q.isEmpty();
      }

      @Override
      public JournalRows.Row next() {
        Cursor c = q.poll();
        if (c == null) throw new NoSuchElementException();
        int j = c.next()[0];
        JournalRows.Row row = JournalRows.Row.moved(c.t().events().get(j), c.t().trees().get(j),
            formationName(c.formation()), c.shift());
        c.next()[0] = j + 1;
        if (j + 1 < c.limit()) q.add(c);
        return row;
      }
    };
  }
}
