package io.pgwarden.keeper;

import io.pgwarden.model.NodeState;
import io.pgwarden.model.TermSeq;

/**
 * The fence: a PostgreSQL that may be taking writes while this keeper holds neither a valid write lease
 * nor a valid promotion permit is stopped at once (immediate, then SIGKILL). default_transaction_read_only
 * is no fence: any session can turn it off. Checked on every event, so at every tick.
 */
final class Safety {
  private Safety() {}

  static void fenceIfUnauthorized(Run r) {
    KeeperState.Builder s = r.s;
    PgFacts f = s.facts;
    if (f == null || !f.mayWrite() || notOurs(r)) return;
    if (r.leaseValid() || r.permitValid()) return;
    Long last = s.fencing.lastFenceMono();
    // Repeat while it still looks writable: the executor may have failed, or the facts are late.
    if (last != null && r.mono - last < r.t.reportIntervalMs()) return;
    r.emit(new Action.FencePostgres(why(r)));
    Long since = s.fencing.fencedAtMono() == null ? r.mono : s.fencing.fencedAtMono();
    s.fencing = new KeeperState.Fencing(since, r.mono);
    r.urgent("fenced");
  }

  /**
   * A PostgreSQL the keeper does not manage: one the operator owns (maintenance, no transition out of
   * it running), or one found before the keeper ever executed a goal (it registers it first).
   */
  private static boolean notOurs(Run r) {
    KeeperState.Builder s = r.s;
    if (s.transition != null) return false;
    return s.current() == NodeState.MAINTENANCE
        || s.current() == NodeState.INIT && s.node.executed().equals(TermSeq.NONE);
  }

  private static String why(Run r) {
    KeeperState.Builder s = r.s;
    String lease = s.lease == null ? "no write lease since the keeper started"
        : "the write lease ended " + -s.lease.remainingMs(r.mono, r.wall) + " ms ago";
    String permit = s.permit == null ? "" : ", the promotion permit ended " + -s.permit.remainingMs(r.mono, r.wall)
        + " ms ago";
    return "PostgreSQL accepts writes in state " + s.current() + " but " + lease + permit;
  }
}
