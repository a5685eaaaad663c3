package io.pgwarden.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * Every state a node can report or be assigned. The wire name (lower snake case) is the one
 * pg_auto_failover operators know, and it is what the journal stores, so it must never change.
 */
public enum NodeState {
  INIT,
  SINGLE,
  WAIT_PRIMARY,
  PRIMARY,
  APPLY_SETTINGS,
  DRAINING,
  DEMOTE_TIMEOUT,
  DEMOTED,
  WAIT_STANDBY,
  CATCHINGUP,
  SECONDARY,
  PREPARE_PROMOTION,
  STOP_REPLICATION,
  REPORT_LSN,
  FAST_FORWARD,
  JOIN_SECONDARY,
  MAINTENANCE,
  PREPARE_MAINTENANCE,
  WAIT_MAINTENANCE,
  DROPPED;

  private static final Set<NodeState> WRITABLE = EnumSet.of(SINGLE, WAIT_PRIMARY, PRIMARY, APPLY_SETTINGS);
  private static final Set<NodeState> OF_A_PRIMARY =
      EnumSet.of(SINGLE, WAIT_PRIMARY, PRIMARY, APPLY_SETTINGS, DRAINING, DEMOTE_TIMEOUT, PREPARE_MAINTENANCE);
  private static final Set<NodeState> STANDBY_STREAMING =
      EnumSet.of(CATCHINGUP, SECONDARY, WAIT_MAINTENANCE, PREPARE_PROMOTION);

  @JsonValue
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  @JsonCreator
  public static NodeState fromWire(String name) {
    try {
      return valueOf(name.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown node state '" + name + "'");
    }
  }

  /** States in which the node's PostgreSQL accepts writes (pg_auto_failover's CanTakeWritesInState). */
  public boolean canTakeWrites() {
    return WRITABLE.contains(this);
  }

  /** States that only a current or former primary passes through. */
  public boolean belongsToPrimary() {
    return OF_A_PRIMARY.contains(this);
  }

  /** States in which the node is a standby that should be streaming from the primary. */
  public boolean isStreamingStandby() {
    return STANDBY_STREAMING.contains(this);
  }

  @Override
  public String toString() {
    return wireName();
  }
}
