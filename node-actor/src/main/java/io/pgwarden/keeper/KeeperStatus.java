package io.pgwarden.keeper;

import io.pgwarden.keeper.pg.LocalFacts;
import io.pgwarden.model.Goal;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.PeerInfo;
import io.pgwarden.model.TermSeq;

/**
 * What the keeper shell publishes after every event, for the health endpoints (read without asking the
 * actor, so a busy keeper still answers them): its state, goal, lease, the last facts.
 *
 * @param lease the write lease (validity is judged when a request comes), or null
 * @param facts the last facts read, or null before the first read
 * @param upstream whom the controller last said to follow (the primary), or null
 * @param lastEventMono when the keeper's loop last ran (its liveness)
 */
public record KeeperStatus(int nodeId, String name, String formation, boolean started, NodeState current, Goal goal,
    TermSeq executed, long knownTerm, Grant lease, LocalFacts facts, PeerInfo upstream, long lastEventMono,
    boolean fenced, String error) {

  public static KeeperStatus initial(int nodeId, String name, String formation) {
    return new KeeperStatus(nodeId, name, formation, false, NodeState.INIT, null, TermSeq.NONE, 0, null, null, null, 0,
        false, null);
  }
}
