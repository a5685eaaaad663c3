package io.pgwarden.model;

/**
 * A write lease granted in {@code term}: the keeper may keep its PostgreSQL writable for
 * {@code durationMs}, counted from the moment it sent the report this lease answers.
 */
public record Lease(long term, long durationMs) {}
