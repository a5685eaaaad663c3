package io.pgwarden.keeper;

import io.pgwarden.model.RejoinInfo;
import io.pgwarden.model.ReportReply;
import io.pgwarden.model.TermSeq;

/** What the keeper's step function reacts to. The shell delivers them one at a time, with the time. */
public sealed interface Event {

  /** The keeper process (re)started with what it had persisted; everything else starts empty. */
  record KeeperStarted(Persisted persisted) implements Event {}

  /** The heartbeat (about every 100 ms): leases expire, retries and reports come due. */
  record Tick() implements Event {}

  record FactsRead(PgFacts facts) implements Event {}

  /**
   * The controller answered a report. {@code sentMono}/{@code sentWall} are the times of the
   * SendReport action that carried it (echoed by the shell): leases and permits count from them.
   */
  record ReplyReceived(ReportReply reply, long sentMono, long sentWall) implements Event {}

  record ReportFailed(long sentMono, long sentWall, String why) implements Event {}

  /** The executor finished the steps of the RunSteps action stamped {@code stamp}. */
  record TransitionFinished(TermSeq stamp, Outcome outcome) implements Event {}

  sealed interface Outcome {}

  /** Every step succeeded; {@code rejoin} says how a rewind-or-clone step rejoined (else null). */
  record Ok(RejoinInfo rejoin) implements Outcome {}

  /** A step failed; the transition is retried with backoff. */
  record Failed(String detail) implements Outcome {}

  /** The executor cannot run a step here at all; reported, not retried until a new goal. */
  record Unsupported(String detail) implements Outcome {}

  /**
   * A peer's answer to this keeper's failsafe round {@code round}: {@code term} is the term the peer
   * knows, {@code ok} whether it promised not to promote.
   */
  record PeerConfirmation(int peerId, long round, long term, boolean ok, String reason) implements Event {}

  /** A primary asks this keeper to confirm {@code term} and promise; answered by Action.AnswerPeer. */
  record PeerPromiseRequest(long requestId, int primaryId, long term) implements Event {}
}
