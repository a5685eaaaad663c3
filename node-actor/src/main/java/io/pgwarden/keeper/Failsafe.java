package io.pgwarden.keeper;

import io.pgwarden.model.NodeState;
import io.pgwarden.model.PeerInfo;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Writes without the controller. While the controller is unreachable, a keeper in a writable state
 * asks every other promotable peer and every member of its synchronous quorum to confirm its term and
 * promise not to promote; when all of them confirm within L, its lease is renewed to (time it started
 * asking) + L on both clocks. One missing answer, one refusal, or one newer term: no renewal, and the
 * lease runs out. The peer side: confirm only when not a candidate and not aware of a newer term, and
 * keep the promise on its own clock.
 */
final class Failsafe {
  private Failsafe() {}

  /** States in which a node may be, or is about to be, promoted or writable: it never promises. */
  static final Set<NodeState> CANDIDATE = EnumSet.of(NodeState.PREPARE_PROMOTION, NodeState.STOP_REPLICATION,
      NodeState.FAST_FORWARD, NodeState.SINGLE, NodeState.WAIT_PRIMARY, NodeState.PRIMARY, NodeState.APPLY_SETTINGS);

  static void renewThroughPeers(Run r) {
    KeeperState.Builder s = r.s;
    // A node told to step down never renews itself: the controller is counting its lease down.
    if (!r.current().canTakeWrites() || s.goal != null && !s.goal.state().canTakeWrites()) {
      s.failsafe = null;
      return;
    }
    // Peers known only from local memory are not enough: a restarted keeper needs one reply first.
    if (s.lastReply == null || !Reports.controllerUnreachable(r)) return;
    // Peers confirm the term the controller last granted this keeper its lease in. A newer term, learnt
    // from anywhere (a peer's refusal teaches it), belongs to a decision this primary had no part in — a
    // failover, maybe: no renewal then, or a deposed primary would renew itself in its successor's term.
    io.pgwarden.model.Lease granted = s.lastReply.lease();
    if (granted == null || s.node.knownTerm() > granted.term()) {
      s.failsafe = null;
      return;
    }
    KeeperState.FailsafeRound last = s.failsafe;
    if (last != null && r.mono - last.startedMono() < r.t.reportIntervalMs()) return;
    List<PeerInfo> ask = new ArrayList<>();
    SortedSet<Integer> required = required(r, ask);
    long id = last == null ? 1 : last.id() + 1;
    KeeperState.FailsafeRound round = new KeeperState.FailsafeRound(id, granted.term(), r.mono, r.wall, required,
        new TreeSet<>(), false);
    s.failsafe = round;
    if (required.isEmpty()) {
      renew(r, round); // nobody could be promoted in our place
    } else {
      r.emit(new Action.AskPeers(id, round.term(), ask));
    }
  }

  /**
   * Every other promotable peer, and every member of the synchronous quorum (in effect, or the one the
   * controller last asked for). A quorum member with no known address is still required: it can never
   * confirm, so the lease is not renewed.
   */
  private static SortedSet<Integer> required(Run r, List<PeerInfo> ask) {
    KeeperState.Builder s = r.s;
    SortedSet<Integer> quorum = new TreeSet<>(SyncNames.members(s.lastReply.syncStandbyNames()));
    if (s.facts != null) quorum.addAll(SyncNames.members(s.facts.syncStandbyNames()));
    SortedSet<Integer> required = new TreeSet<>();
    List<PeerInfo> peers = new ArrayList<>(s.lastReply.peers());
    peers.sort(java.util.Comparator.comparingInt(PeerInfo::nodeId));
    for (PeerInfo p : peers) {
      if (p.nodeId() == r.cfg.nodeId() || p.goal() == NodeState.DROPPED && !quorum.contains(p.nodeId())) continue;
      boolean promotable = p.settings() == null || p.settings().promotable();
      if (promotable || quorum.contains(p.nodeId())) {
        required.add(p.nodeId());
        ask.add(p);
      }
    }
    for (int id : quorum) {
      if (id != r.cfg.nodeId()) required.add(id);
    }
    return required;
  }

  static void onConfirmation(Run r, Event.PeerConfirmation c) {
    r.learnTerm(c.term());
    KeeperState.FailsafeRound round = r.s.failsafe;
    if (round == null || round.id() != c.round() || !round.required().contains(c.peerId())) return;
    if (!c.ok() || c.term() != round.term()) return;
    round = round.confirm(c.peerId());
    r.s.failsafe = round;
    if (round.complete() && !round.renewed()) renew(r, round);
  }

  private static void renew(Run r, KeeperState.FailsafeRound round) {
    Grant g = new Grant(round.startedMono(), round.startedWall(), r.t.leaseMs());
    if (!g.validAt(r.mono, r.wall)) return; // the confirmations came too late to count
    r.s.lease = Grant.newest(r.s.lease, g);
    r.s.failsafe = round.renewedLease();
  }

  /** A primary asks us to confirm its term and promise not to promote. */
  static void onPromiseRequest(Run r, Event.PeerPromiseRequest q) {
    r.learnTerm(q.term());
    KeeperState.Builder s = r.s;
    String refusal = null;
    if (s.node.knownTerm() > q.term()) {
      refusal = "knows the newer term " + s.node.knownTerm();
    } else if (candidate(s)) {
      refusal = "is itself a candidate (state " + s.current() + (s.goal == null ? "" : ", goal " + s.goal.state())
          + ")";
    }
    if (refusal == null) {
      long ms = r.cfg.promiseMs();
      s.promise = Promise.longest(s.promise, new Promise(q.primaryId(), r.mono + ms, r.wall + ms));
    }
    r.emit(new Action.AnswerPeer(q.requestId(), q.primaryId(), s.node.knownTerm(), refusal == null,
        refusal == null ? "promised not to promote for " + r.cfg.promiseMs() + " ms" : refusal));
  }

  private static boolean candidate(KeeperState.Builder s) {
    return CANDIDATE.contains(s.current()) || s.goal != null && CANDIDATE.contains(s.goal.state())
        || s.transition != null && CANDIDATE.contains(s.transition.to());
  }
}
