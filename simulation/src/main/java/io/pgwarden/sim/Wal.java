package io.pgwarden.sim;

import java.util.ArrayList;
import java.util.List;

/**
 * Write-ahead log as PostgreSQL shapes it: timelines forking off their parent at a switch point. A node's
 * WAL is its current timeline's lineage up to a position: the parent's WAL up to the fork, then the
 * timeline's own. Each timeline instance has exactly one writer (the node that created it by promotion
 * or initdb), so only commit records need to be kept to know which commits a node holds.
 */
final class Wal {
  private Wal() {}

  /** One timeline instance. {@code tli} is the number PostgreSQL shows; two instances may share one. */
  static final class Timeline {
    final int uid;
    final int tli;
    final Timeline parent;
    final long forkLsn;
    final long sysid;
    final List<Commit> commits = new ArrayList<>();

    Timeline(int uid, int tli, Timeline parent, long forkLsn, long sysid) {
      this.uid = uid;
      this.tli = tli;
      this.parent = parent;
      this.forkLsn = forkLsn;
      this.sysid = sysid;
    }

    /** The highest timeline number in this lineage. */
    int maxTli() {
      int m = 0;
      for (Timeline t = this; t != null; t = t.parent) m = Math.max(m, t.tli);
      return m;
    }

    @Override
    public String toString() {
      return tli + "#" + uid;
    }
  }

  /** One client transaction's commit record and what the client was told. */
  static final class Commit {
    final long id;
    final int node;
    final Timeline tl;
    final long lsnEnd;
    final String level;
    final long bytes;
    long ackedAtUs = -1;      // true time the node sent the acknowledgement (-1: never)
    boolean cancelled;        // acknowledged with a warning after the client cancelled the sync wait
    boolean clientSaw;        // the client received the acknowledgement
    boolean flushed;          // reached disk on its writer
    boolean lostInCrash;      // never flushed and its writer crashed (synchronous_commit = off)
    String discardedBy;       // "pg_rewind@node3 5.12 (4096 bytes)" when a rejoin threw it away
    io.pgwarden.model.TermSeq discardStamp; // the stamp of the transition whose rejoin threw it away
    int discardNode;          // the formation node id that rejoined
    boolean outsideFormation; // its node had been dropped from the formation when it acknowledged
    io.pgwarden.model.TermSeq underGoal; // the newest goal its node's keeper acted on when it acknowledged

    Commit(long id, int node, Timeline tl, long lsnEnd, String level, long bytes) {
      this.id = id;
      this.node = node;
      this.tl = tl;
      this.lsnEnd = lsnEnd;
      this.level = level;
      this.bytes = bytes;
    }

    boolean mustSurvive() {
      return clientSaw && !cancelled && (level.equals("on") || level.equals("remote_apply"));
    }

    @Override
    public String toString() {
      return "tx" + id + "@node" + node + "[" + tl + " " + Long.toHexString(lsnEnd) + " " + level
          + (cancelled ? " cancelled" : "") + "]";
    }
  }

  /** Whether WAL {@code (tl, end)} holds the record that ends at {@code lsn} on timeline {@code on}. */
  static boolean holds(Timeline tl, long end, Timeline on, long lsn) {
    long limit = end;
    for (Timeline t = tl; t != null; t = t.parent) {
      if (t == on) return lsn <= limit;
      limit = Math.min(limit, t.forkLsn);
    }
    return false;
  }

  static boolean holds(Timeline tl, long end, Commit c) {
    return holds(tl, end, c.tl, c.lsnEnd);
  }

  /** Whether WAL {@code (a, aEnd)} is a prefix of WAL {@code (b, bEnd)}: a standby of b can stream on. */
  static boolean isPrefix(Timeline a, long aEnd, Timeline b, long bEnd) {
    if (aEnd > bEnd) return false;
    if (a.sysid != b.sysid) return false;
    // a's content up to aEnd must lie in b's lineage: every part of a's lineage below aEnd
    long limit = aEnd;
    for (Timeline t = a; t != null; t = t.parent) {
      if (inLineage(b, t)) {
        return limit <= exitPoint(b, t);
      }
      if (t.forkLsn < limit) return false; // a has its own records on t beyond the fork that b lacks
      limit = Math.min(limit, t.forkLsn);
    }
    return false;
  }

  private static boolean inLineage(Timeline of, Timeline t) {
    for (Timeline x = of; x != null; x = x.parent) {
      if (x == t) return true;
    }
    return false;
  }

  /** The highest position of timeline {@code t} that lineage {@code of} contains. */
  private static long exitPoint(Timeline of, Timeline t) {
    long limit = Long.MAX_VALUE;
    for (Timeline x = of; x != null; x = x.parent) {
      if (x == t) return limit;
      limit = Math.min(limit, x.forkLsn);
    }
    return -1;
  }

  /** The fork point of {@code (a, aEnd)} against lineage {@code b}: how much of a's WAL b shares. */
  static long commonPoint(Timeline a, long aEnd, Timeline b) {
    long limit = aEnd;
    for (Timeline t = a; t != null; t = t.parent) {
      if (inLineage(b, t)) return Math.min(limit, exitPoint(b, t));
      limit = Math.min(limit, t.forkLsn);
    }
    return 0;
  }

  /** The timeline number of the WAL at position {@code pos} of lineage {@code tl}. */
  static int tliAt(Timeline tl, long pos) {
    Timeline t = tl;
    while (t.parent != null && pos <= t.forkLsn) t = t.parent;
    return t.tli;
  }

  /** Commits WAL {@code (a, aEnd)} holds that {@code (b, bEnd)} does not. */
  static List<Commit> missingFrom(Timeline a, long aEnd, Timeline b, long bEnd) {
    List<Commit> out = new ArrayList<>();
    long limit = aEnd;
    for (Timeline t = a; t != null; t = t.parent) {
      for (int i = t.commits.size() - 1; i >= 0; i--) {
        Commit c = t.commits.get(i);
        if (c.lsnEnd > limit) continue;
        if (holds(b, bEnd, c)) return out; // everything before it is shared as well
        out.add(c);
      }
      limit = Math.min(limit, t.forkLsn);
    }
    return out;
  }
}
