package io.pgwarden.sim;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The run's trace: what happened, when, to whom. The last {@link #KEEP} entries are always kept (a
 * failing seed prints them); in full mode every entry is also formatted, printed on demand and hashed,
 * and the SHA-256 of all lines is the run's trace hash.
 */
final class Trace {
  static final int KEEP = 400;

  record Entry(long t, String who, String what) {
    String line() {
      return String.format(Locale.ROOT, "%10.3f %-12s %s", t / 1_000_000.0, who, what);
    }
  }

  private final boolean full;
  private final Entry[] ring = new Entry[KEEP];
  private long count;
  private final MessageDigest sha;
  private final List<String> lines;

  Trace(boolean full, boolean keepLines) {
    this.full = full;
    this.lines = keepLines ? new ArrayList<>() : null;
    try {
      this.sha = full ? MessageDigest.getInstance("SHA-256") : null;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  boolean full() {
    return full;
  }

  void add(long t, String who, String what) {
    Entry e = new Entry(t, who, what);
    ring[(int) (count % KEEP)] = e;
    count++;
    if (full) {
      String l = e.line();
      sha.update(l.getBytes(StandardCharsets.UTF_8));
      sha.update((byte) '\n');
      if (lines != null) lines.add(l);
    }
  }

  long count() {
    return count;
  }

  List<String> lines() {
    return lines == null ? List.of() : lines;
  }

  /** The last {@code n} entries, formatted, oldest first. */
  List<String> last(int n) {
    List<String> out = new ArrayList<>();
    long from = Math.max(0, count - Math.min(n, KEEP));
    for (long i = from; i < count; i++) out.add(ring[(int) (i % KEEP)].line());
    return out;
  }

  String hash() {
    if (sha == null) return "-";
    byte[] d;
    try {
      d = ((MessageDigest) sha.clone()).digest();
    } catch (CloneNotSupportedException e) {
      throw new IllegalStateException(e);
    }
    StringBuilder sb = new StringBuilder();
    for (byte b : d) sb.append(String.format(Locale.ROOT, "%02x", b));
    return sb.toString();
  }
}
