package io.pgwarden.model;

/**
 * How a node last rejoined as a standby after having been a primary (or a diverged standby):
 * {@code method} is "pg_rewind", "pg_basebackup" or "none" (no rewind needed); {@code bytesDiscarded}
 * is the WAL the rewind threw away (the old end of WAL minus the fork point).
 */
public record RejoinInfo(TermSeq stamp, String method, long bytesDiscarded, int fromTimeline, int toTimeline) {}
