package io.pgwarden.keeper;

import io.pgwarden.model.Goal;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.RejoinInfo;
import io.pgwarden.model.ReportReply;
import java.util.Collections;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Everything the keeper's step function remembers between events. Immutable; only {@link Persisted}
 * survives a restart.
 *
 * @param started a KeeperStarted has been seen; every other event before it is ignored
 * @param node current state, last executed stamp, known term (the persisted part)
 * @param currentSinceMono when the current state was reached (or the keeper started)
 * @param goal the newest goal any reply carried
 * @param lastReply the answer to the latest-sent report that was answered: peers, upstream, quorum
 * @param transition the transition in flight, or null
 * @param facts the last facts read from PostgreSQL, or null before the first read
 * @param lease the write lease, or null (always null after a restart until a grant)
 * @param permit the promotion permit, or null
 * @param promise this keeper's outstanding promise not to promote, or null
 * @param failsafe the latest failsafe round, or null
 * @param error the error the next reports carry, or null
 * @param lastRejoin how the node last rejoined as a standby, reported to the controller
 * @param leaving LeaveFormation was emitted
 */
public record KeeperState(
    boolean started,
    long startedMono,
    Persisted node,
    long currentSinceMono,
    Goal goal,
    ReportReply lastReply,
    long lastReplySentMono,
    Transition transition,
    PgFacts facts,
    Grant lease,
    Grant permit,
    Promise promise,
    Reporting reporting,
    FailsafeRound failsafe,
    Fencing fencing,
    Ensuring ensuring,
    String error,
    RejoinInfo lastRejoin,
    boolean leaving) {

  /** The state before KeeperStarted. */
  public static KeeperState initial() {
    return new KeeperState(false, 0, Persisted.NEW, 0, null, null, Long.MIN_VALUE, null, null, null, null, null,
        Reporting.NONE, null, Fencing.NONE, Ensuring.NONE, null, null, false);
  }

  public NodeState current() {
    return node.current();
  }

  /**
   * Report bookkeeping. Times are the sent times of reports (the keys replies and failures echo).
   *
   * @param lastSentMono the latest report sent, null if none
   * @param lastSentWaitMs the long-poll wait it asked for
   * @param lastAnsweredSentMono the latest-sent report that was answered
   * @param lastReplyMono when the latest answer arrived
   * @param lastFailedSentMono the latest-sent report that failed
   * @param urgentWhy non-null: report at once, for this reason
   */
  public record Reporting(Long lastSentMono, long lastSentWaitMs, Long lastAnsweredSentMono, Long lastReplyMono,
      Long lastFailedSentMono, String urgentWhy) {
    static final Reporting NONE = new Reporting(null, 0, null, null, null, null);

    Reporting urgent(String why) {
      return new Reporting(lastSentMono, lastSentWaitMs, lastAnsweredSentMono, lastReplyMono, lastFailedSentMono,
          urgentWhy == null ? why : urgentWhy);
    }

    Reporting sent(long at, long waitMs) {
      return new Reporting(at, waitMs, lastAnsweredSentMono, lastReplyMono, lastFailedSentMono, null);
    }

    Reporting answered(long sentMono, long now) {
      long a = lastAnsweredSentMono == null ? sentMono : Math.max(lastAnsweredSentMono, sentMono);
      return new Reporting(lastSentMono, lastSentWaitMs, a, now, lastFailedSentMono, urgentWhy);
    }

    Reporting failed(long sentMono) {
      long f = lastFailedSentMono == null ? sentMono : Math.max(lastFailedSentMono, sentMono);
      return new Reporting(lastSentMono, lastSentWaitMs, lastAnsweredSentMono, lastReplyMono, f, urgentWhy);
    }

    /** A report is out and neither answered nor failed. */
    boolean outstanding() {
      if (lastSentMono == null) return false;
      long settled = Math.max(lastAnsweredSentMono == null ? Long.MIN_VALUE : lastAnsweredSentMono,
          lastFailedSentMono == null ? Long.MIN_VALUE : lastFailedSentMono);
      return lastSentMono > settled;
    }

    /** The latest settled report failed. */
    boolean lastFailed() {
      return lastFailedSentMono != null && (lastAnsweredSentMono == null || lastFailedSentMono >= lastAnsweredSentMono);
    }
  }

  /**
   * One failsafe round: the peers that must confirm {@code term}, and those that did.
   *
   * @param renewed the round renewed the lease
   */
  public record FailsafeRound(long id, long term, long startedMono, long startedWall, SortedSet<Integer> required,
      SortedSet<Integer> confirmed, boolean renewed) {
    public FailsafeRound {
      required = Collections.unmodifiableSortedSet(new TreeSet<>(required));
      confirmed = Collections.unmodifiableSortedSet(new TreeSet<>(confirmed));
    }

    FailsafeRound confirm(int peer) {
      TreeSet<Integer> c = new TreeSet<>(confirmed);
      c.add(peer);
      return new FailsafeRound(id, term, startedMono, startedWall, required, c, renewed);
    }

    boolean complete() {
      return confirmed.containsAll(required);
    }

    FailsafeRound renewedLease() {
      return new FailsafeRound(id, term, startedMono, startedWall, required, confirmed, true);
    }
  }

  /**
   * @param fencedAtMono this keeper fenced its PostgreSQL and has not yet had a report saying so answered
   * @param lastFenceMono the last FencePostgres (repeated while PostgreSQL still looks writable)
   */
  public record Fencing(Long fencedAtMono, Long lastFenceMono) {
    static final Fencing NONE = new Fencing(null, null);
  }

  /**
   * Ensure bookkeeping while no transition runs.
   *
   * @param downSinceMono PostgreSQL is down though the state wants it running, since then
   * @param startAttempts starts issued since it went down
   * @param peersKey the peers MaintainPeers was last issued for
   */
  public record Ensuring(Long downSinceMono, int startAttempts, Long lastStartMono, Long lastStopMono, String peersKey,
      Long peersMaintainedMono) {
    static final Ensuring NONE = new Ensuring(null, 0, null, null, null, null);

    Ensuring up() {
      return new Ensuring(null, 0, null, lastStopMono, peersKey, peersMaintainedMono);
    }

    Ensuring down(long since) {
      return new Ensuring(downSinceMono == null ? since : downSinceMono, startAttempts, lastStartMono, lastStopMono,
          peersKey, peersMaintainedMono);
    }

    Ensuring startIssued(long at) {
      return new Ensuring(downSinceMono, startAttempts + 1, at, lastStopMono, peersKey, peersMaintainedMono);
    }

    Ensuring stopIssued(long at) {
      return new Ensuring(downSinceMono, startAttempts, lastStartMono, at, peersKey, peersMaintainedMono);
    }

    Ensuring peersMaintained(String key, long at) {
      return new Ensuring(downSinceMono, startAttempts, lastStartMono, lastStopMono, key, at);
    }

    /** A new state starts with a clean slate, except what was done for the peers. */
    Ensuring forNewState() {
      return new Ensuring(null, 0, null, null, peersKey, peersMaintainedMono);
    }
  }

  /** A mutable copy for one step of the step function. */
  Builder toBuilder() {
    return new Builder(this);
  }

  static final class Builder {
    boolean started;
    long startedMono;
    Persisted node;
    long currentSinceMono;
    Goal goal;
    ReportReply lastReply;
    long lastReplySentMono;
    Transition transition;
    PgFacts facts;
    Grant lease;
    Grant permit;
    Promise promise;
    Reporting reporting;
    FailsafeRound failsafe;
    Fencing fencing;
    Ensuring ensuring;
    String error;
    RejoinInfo lastRejoin;
    boolean leaving;

    Builder(KeeperState s) {
      started = s.started;
      startedMono = s.startedMono;
      node = s.node;
      currentSinceMono = s.currentSinceMono;
      goal = s.goal;
      lastReply = s.lastReply;
      lastReplySentMono = s.lastReplySentMono;
      transition = s.transition;
      facts = s.facts;
      lease = s.lease;
      permit = s.permit;
      promise = s.promise;
      reporting = s.reporting;
      failsafe = s.failsafe;
      fencing = s.fencing;
      ensuring = s.ensuring;
      error = s.error;
      lastRejoin = s.lastRejoin;
      leaving = s.leaving;
    }

    NodeState current() {
      return node.current();
    }

    KeeperState build() {
      return new KeeperState(started, startedMono, node, currentSinceMono, goal, lastReply, lastReplySentMono,
          transition, facts, lease, permit, promise, reporting, failsafe, fencing, ensuring, error, lastRejoin,
          leaving);
    }
  }
}
