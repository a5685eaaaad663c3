package io.pgwarden.keeper;

import io.pgwarden.model.NodeState;
import io.pgwarden.model.TermSeq;

/**
 * The keeper's on-disk state: the state it has reached, the stamp of the last goal it executed
 * completely, and the highest term it has heard of. Written only after a transition fully succeeded
 * (or the known term grew); a restarted keeper resumes from it. Nothing about leases is persisted: a
 * restarted keeper holds no lease.
 */
public record Persisted(NodeState current, TermSeq executed, long knownTerm) {
  public static final Persisted NEW = new Persisted(NodeState.INIT, TermSeq.NONE, 0);

  public Persisted {
    executed = executed == null ? TermSeq.NONE : executed;
  }
}
