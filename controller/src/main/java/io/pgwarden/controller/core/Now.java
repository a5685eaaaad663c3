package io.pgwarden.controller.core;

/**
 * The time a decision is made at: {@code mono} is the controller's monotonic clock (only ever compared
 * within one controller incarnation), {@code wall} the epoch milliseconds stamped on journal events.
 */
public record Now(long mono, long wall) {
  public Now plus(long ms) {
    return new Now(mono + ms, wall + ms);
  }
}
