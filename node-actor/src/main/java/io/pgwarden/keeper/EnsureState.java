package io.pgwarden.keeper;

import io.pgwarden.keeper.TransitionPlanner.Ensure;
import io.pgwarden.keeper.TransitionPlanner.PgWanted;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.PeerInfo;
import io.pgwarden.model.PgStatus;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;

/**
 * "Ensure the current state" while no transition runs: keep PostgreSQL running or stopped as the state
 * wants (TransitionPlanner.ensure), and the peers' slots and HBA entries in place. A writable state
 * starts PostgreSQL only under write authority, stop_replication only under its permit: no writable
 * start on local memory.
 */
final class EnsureState {
  private EnsureState() {}

  static void ensure(Run r) {
    KeeperState.Builder s = r.s;
    if (s.facts == null || s.leaving) return;
    if (!r.idle()) {
      // A transition waiting to retry needs its server as much as the state it leaves: one whose steps
      // failed because PostgreSQL died (a primary applying its quorum) would otherwise retry forever.
      if (retryingWithServerUp(r)) keepRunning(r);
      return;
    }
    Ensure want = TransitionPlanner.ensure(s.current());
    if (want.pg() == PgWanted.RUNNING) {
      keepRunning(r);
    } else if (want.pg() == PgWanted.STOPPED) {
      keepStopped(r);
    }
    if (want.maintainPeers() && s.facts.pg() == PgStatus.RUNNING && s.lastReply != null) maintainPeers(r);
  }

  private static void keepRunning(Run r) {
    KeeperState.Builder s = r.s;
    if (s.facts.pg().alive()) {
      s.ensuring = s.ensuring.up();
      return;
    }
    s.ensuring = s.ensuring.down(r.mono);
    if (!mayStart(r)) return;
    Long last = s.ensuring.lastStartMono();
    if (last != null && r.mono - last < r.cfg.restartBackoffMs()) return;
    r.emit(new Action.StartPostgres(!s.current().canTakeWrites()));
    s.ensuring = s.ensuring.startIssued(r.mono);
  }

  /** A transition in backoff between two states that both want PostgreSQL running. */
  static boolean retryingWithServerUp(Run r) {
    Transition t = r.s.transition;
    return t != null && t.phase() == Transition.Phase.BACKOFF
        && TransitionPlanner.ensure(r.current()).pg() == PgWanted.RUNNING
        && TransitionPlanner.ensure(t.to()).pg() == PgWanted.RUNNING;
  }

  /** Starting may open writes in these states: only with the authority that covers them. */
  static boolean mayStart(Run r) {
    NodeState c = r.current();
    if (c.canTakeWrites()) return r.writeAuthority();
    if (c == NodeState.STOP_REPLICATION) return r.permitValid();
    return true;
  }

  private static void keepStopped(Run r) {
    KeeperState.Builder s = r.s;
    if (!s.facts.pg().alive()) return;
    Long last = s.ensuring.lastStopMono();
    if (last != null && r.mono - last < r.cfg.restartBackoffMs()) return;
    r.emit(new Action.StopPostgres("PostgreSQL must not run in state " + s.current()));
    s.ensuring = s.ensuring.stopIssued(r.mono);
  }

  private static void maintainPeers(Run r) {
    KeeperState.Builder s = r.s;
    Long at = s.ensuring.peersMaintainedMono();
    boolean recent = at != null && r.mono - at < r.cfg.peersRefreshMs();
    // runs at every tick: the common case (same peers, maintained recently) allocates nothing
    if (recent && s.ensuring.peersKey() != null && sameKey(s.lastReply.peers(), s.ensuring.peersKey())) return;
    List<PeerInfo> peers = s.lastReply.peers().stream().sorted(Comparator.comparingInt(PeerInfo::nodeId)).toList();
    String key = key(peers);
    if (key.equals(s.ensuring.peersKey()) && recent) return;
    r.emit(new Action.MaintainPeers(peers));
    s.ensuring = s.ensuring.peersMaintained(key, r.mono);
  }

  /** Whether {@code peers}, sorted by node id, have exactly {@code key} (as {@link #key} writes it). */
  private static boolean sameKey(List<PeerInfo> peers, String key) {
    int pos = 0;
    int prevId = Integer.MIN_VALUE;
    for (int i = 0; i < peers.size(); i++) {
      PeerInfo p = peers.get(i);
      if (p.nodeId() < prevId) return false; // not in order: let the general path decide
      prevId = p.nodeId();
      if (i > 0) {
        if (pos >= key.length() || key.charAt(pos) != ',') return false;
        pos++;
      }
      String part = p.nodeId() + "@" + p.address();
      if (!key.startsWith(part, pos)) return false;
      pos += part.length();
    }
    return pos == key.length();
  }

  private static String key(List<PeerInfo> peers) {
    return peers.stream().map(p -> p.nodeId() + "@" + p.address()).collect(Collectors.joining(","));
  }

  /**
   * PostgreSQL is down though the state wants it up, and the starts the keeper issued did not bring it
   * back: FAILED tells the controller it may fail over (pg_auto_failover's restart grace, shortened).
   */
  static boolean gaveUp(Run r) {
    KeeperState.Builder s = r.s;
    KeeperState.Ensuring e = s.ensuring;
    if (!r.idle() && !retryingWithServerUp(r) || e.downSinceMono() == null || e.startAttempts() == 0) return false;
    if (TransitionPlanner.ensure(s.current()).pg() != PgWanted.RUNNING) return false;
    // each start had a full backoff to work before the next one: one more than allowed means all failed
    return e.startAttempts() > r.cfg.restartAttempts() || r.mono - e.downSinceMono() >= r.cfg.restartGiveUpMs();
  }
}
