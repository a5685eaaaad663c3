package io.pgwarden.model;

/**
 * One row of the primary's pg_stat_replication. {@code nodeId} is the peer the application name maps
 * to (null for a client the keeper does not know); {@code replyAgeMs} is the age of its last reply on
 * the primary's clock.
 */
public record WalSenderInfo(
    String applicationName, Integer nodeId, String state, String syncState, Lsn flushLsn, Lsn replayLsn,
    Long replyAgeMs) {}
