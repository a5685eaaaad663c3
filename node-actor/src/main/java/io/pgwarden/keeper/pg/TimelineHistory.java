package io.pgwarden.keeper.pg;

import io.pgwarden.model.Lsn;
import java.util.ArrayList;
import java.util.List;

/**
 * A timeline history file ({@code pg_wal/<tli>.history}): for each ancestor timeline, the LSN at which
 * the next timeline branched off it. The fork point of a node still on timeline T is the switchpoint
 * of T's entry.
 */
public record TimelineHistory(int timeline, List<Entry> entries) {

  /** Timeline {@code parent} ended (and the next one began) at {@code switchpoint}. */
  public record Entry(int parent, Lsn switchpoint) {}

  public TimelineHistory {
    entries = List.copyOf(entries);
  }

  public static String fileName(int timeline) {
    return String.format("%08X.history", timeline);
  }

  public static TimelineHistory parse(int timeline, String text) {
    List<Entry> out = new ArrayList<>();
    for (String line : text.split("\n")) {
      String t = line.trim();
      if (t.isEmpty() || t.startsWith("#")) continue;
      String[] f = t.split("\\s+");
      if (f.length < 2) throw new IllegalArgumentException("bad history line in " + fileName(timeline) + ": " + line);
      out.add(new Entry(Integer.parseInt(f[0]), Lsn.parse(f[1])));
    }
    return new TimelineHistory(timeline, out);
  }

  /** Where timeline {@code tli} was left for its successor, or null when it is not an ancestor. */
  public Lsn switchpointOf(int tli) {
    for (Entry e : entries) {
      if (e.parent() == tli) return e.switchpoint();
    }
    return null;
  }
}
