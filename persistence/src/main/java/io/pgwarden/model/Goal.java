package io.pgwarden.model;

/** The state the controller assigns to one node, stamped with the decision that assigned it. */
public record Goal(int nodeId, NodeState state, TermSeq stamp) {}
