package io.pgwarden.model;

/**
 * One node as the controller saw it when it decided: the inputs a decision is journaled with.
 *
 * @param reportAgeMs time since the keeper's last report on the controller's clock; null if never
 * @param probeOk the controller's last probe of the node's PostgreSQL; null if not probed yet
 * @param evidence what a standby last saw of the primary ("wal_receiver", "probe" or "none")
 * @param evidenceAgeMs age of that evidence, its keeper-side age plus the report's age
 */
public record NodeFacts(
    int nodeId,
    NodeState reported,
    NodeState goal,
    PgStatus pg,
    int timeline,
    Lsn lsn,
    Long reportAgeMs,
    Boolean probeOk,
    Long probeAgeMs,
    String evidence,
    Long evidenceAgeMs,
    boolean healthy) {}
