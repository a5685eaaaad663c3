package io.pgwarden.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** What the keeper knows of its own PostgreSQL. */
public enum PgStatus {
  /** postmaster alive and the facts query answered in time. */
  RUNNING,
  /** postmaster alive but the facts query timed out. */
  HUNG,
  /** not running, on purpose or not yet restarted. */
  STOPPED,
  /** not running and the keeper gave up restarting it: the controller may fail over. */
  FAILED;

  public boolean alive() {
    return this == RUNNING || this == HUNG;
  }

  @JsonValue
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  @JsonCreator
  public static PgStatus fromWire(String s) {
    return valueOf(s.toUpperCase(Locale.ROOT));
  }
}
