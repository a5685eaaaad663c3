package io.pgwarden.keeper;

import io.pgwarden.model.NodeState;
import io.pgwarden.model.TermSeq;
import java.util.List;

/**
 * The one transition in flight: its goal stamp, its planned steps, how far it got, and what it waits
 * for. Immutable; every change makes a new one.
 *
 * @param next index of the next step to run or gate to pass
 * @param segmentEnd while RUNNING, the index after the last step handed to the executor
 * @param notAfterMono the executor must not begin the next segment after this (set by a passed gate)
 * @param confirmSentMono AWAITING_PERMIT: when the confirmation report went out; null if none is in flight
 * @param nextConfirmAtMono AWAITING_PERMIT: the earliest time to send a (new) confirmation
 * @param confirmed AWAITING_PERMIT: the permit a fresh confirmation granted
 */
public record Transition(TermSeq stamp, NodeState from, NodeState to, List<Step> steps, int next, int segmentEnd,
    Phase phase, int attempts, long retryAtMono, long notAfterMono, Long confirmSentMono, long nextConfirmAtMono,
    Grant confirmed) {

  public enum Phase {
    /** Between steps: about to hand the next segment over, or to meet a gate. */
    READY,
    /** A segment is with the executor; nothing else happens until it answers. */
    RUNNING,
    AWAITING_LEASE,
    AWAITING_PERMIT,
    /** A step failed; the whole transition is retried from its first step at retryAtMono. */
    BACKOFF,
    /** No plan, or the executor cannot do it: wait for a different goal. */
    UNSUPPORTED
  }

  public Transition {
    steps = List.copyOf(steps);
  }

  static Transition start(TermSeq stamp, NodeState from, NodeState to, List<Step> steps) {
    return new Transition(stamp, from, to, steps, 0, 0, Phase.READY, 0, 0, Long.MAX_VALUE, null, 0, null);
  }

  static Transition unsupported(TermSeq stamp, NodeState from, NodeState to) {
    return new Transition(stamp, from, to, List.of(), 0, 0, Phase.UNSUPPORTED, 0, 0, Long.MAX_VALUE, null, 0, null);
  }

  boolean done() {
    return next >= steps.size();
  }

  Step nextStep() {
    return steps.get(next);
  }

  /** Index after the last step before the next gate (or the end). */
  int segmentEndFromNext() {
    int i = next;
    while (i < steps.size() && !steps.get(i).isGate()) i++;
    return i;
  }

  Transition phase(Phase p) {
    return new Transition(stamp, from, to, steps, next, segmentEnd, p, attempts, retryAtMono, notAfterMono,
        confirmSentMono, nextConfirmAtMono, confirmed);
  }

  Transition running(int end) {
    return new Transition(stamp, from, to, steps, next, end, Phase.RUNNING, attempts, retryAtMono, Long.MAX_VALUE,
        null, 0, null);
  }

  /** The segment (or gate) succeeded: move on to {@code index}; a gate passes on its deadline. */
  Transition advancedTo(int index, long notAfter) {
    return new Transition(stamp, from, to, steps, index, index, Phase.READY, attempts, retryAtMono, notAfter, null, 0,
        null);
  }

  Transition failed(long retryAt) {
    return new Transition(stamp, from, to, steps, 0, 0, Phase.BACKOFF, attempts + 1, retryAt, Long.MAX_VALUE, null, 0,
        null);
  }

  Transition restarted() {
    return new Transition(stamp, from, to, steps, 0, 0, Phase.READY, attempts, retryAtMono, Long.MAX_VALUE, null, 0,
        null);
  }

  Transition awaitingPermit(long nextConfirmAt) {
    return new Transition(stamp, from, to, steps, next, segmentEnd, Phase.AWAITING_PERMIT, attempts, retryAtMono,
        notAfterMono, null, nextConfirmAt, null);
  }

  Transition confirmationSent(long at) {
    return new Transition(stamp, from, to, steps, next, segmentEnd, phase, attempts, retryAtMono, notAfterMono, at,
        nextConfirmAtMono, null);
  }

  Transition permitConfirmed(Grant g) {
    return new Transition(stamp, from, to, steps, next, segmentEnd, phase, attempts, retryAtMono, notAfterMono, null,
        nextConfirmAtMono, g);
  }

  @Override
  public String toString() {
    return from + " -> " + to + " @" + stamp + " " + phase + " step " + next + "/" + steps.size();
  }
}
