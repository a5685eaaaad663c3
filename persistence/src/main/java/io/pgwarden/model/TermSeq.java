package io.pgwarden.model;

import java.util.Comparator;

/**
 * The stamp every goal carries: the term (raised at every change of primary and at every controller
 * start) and the decision sequence number. Keepers execute only goals newer than the last one they ran.
 */
public record TermSeq(long term, long seq) implements Comparable<TermSeq> {
  public static final TermSeq NONE = new TermSeq(0, 0);
  private static final Comparator<TermSeq> ORDER =
      Comparator.comparingLong(TermSeq::term).thenComparingLong(TermSeq::seq);

  public boolean isNewerThan(TermSeq other) {
    return compareTo(other) > 0;
  }

  @Override
  public int compareTo(TermSeq o) {
    return ORDER.compare(this, o);
  }

  @Override
  public String toString() {
    return term + "." + seq;
  }
}
