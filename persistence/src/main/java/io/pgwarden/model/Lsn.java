package io.pgwarden.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** A PostgreSQL write-ahead log position, written as PostgreSQL prints it ("0/4000678"). */
public record Lsn(long value) implements Comparable<Lsn> {
  public static final Lsn ZERO = new Lsn(0);

  @JsonCreator
  public static Lsn parse(String text) {
    int slash = text.indexOf('/');
    if (slash <= 0 || slash == text.length() - 1) {
      throw new IllegalArgumentException("not an LSN: '" + text + "'");
    }
    long hi = Long.parseUnsignedLong(text.substring(0, slash), 16);
    long lo = Long.parseUnsignedLong(text.substring(slash + 1), 16);
    if (hi > 0xFFFFFFFFL || lo > 0xFFFFFFFFL) {
      throw new IllegalArgumentException("not an LSN: '" + text + "'");
    }
    return new Lsn((hi << 32) | lo);
  }

  public static Lsn of(long value) {
    return value == 0 ? ZERO : new Lsn(value);
  }

  public boolean isZero() {
    return value == 0;
  }

  /** Bytes from {@code other} up to this position; negative when this one is behind. */
  public long minus(Lsn other) {
    return value - other.value;
  }

  public static Lsn max(Lsn a, Lsn b) {
    if (a == null) return b;
    if (b == null) return a;
    return a.compareTo(b) >= 0 ? a : b;
  }

  @Override
  public int compareTo(Lsn o) {
    return Long.compareUnsigned(value, o.value);
  }

  @JsonValue
  @Override
  public String toString() {
    return Long.toHexString(value >>> 32).toUpperCase() + "/" + Long.toHexString(value & 0xFFFFFFFFL).toUpperCase();
  }
}
