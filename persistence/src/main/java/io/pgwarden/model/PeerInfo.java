package io.pgwarden.model;

/**
 * Another node of the formation, as a keeper needs it: to keep a replication slot and an HBA entry for
 * it, to follow it, and to ask it for a failsafe confirmation on its keeper API.
 */
public record PeerInfo(
    int nodeId, String name, NodeAddress address, String keeperApi, NodeState goal, NodeSettings settings) {}
