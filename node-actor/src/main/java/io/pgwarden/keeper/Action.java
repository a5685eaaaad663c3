package io.pgwarden.keeper;

import io.pgwarden.model.NodeReport;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.PeerInfo;
import io.pgwarden.model.TermSeq;
import java.util.List;

/** What the keeper's step function asks its shell to do. */
public sealed interface Action {

  /**
   * Post {@code report}; the controller may hold the answer up to {@code waitMs} while the goal is not
   * newer than {@code knownStamp} (the long-poll). The shell sends it at once and echoes
   * {@code sentMono}/{@code sentWall} in ReplyReceived or ReportFailed.
   */
  record SendReport(NodeReport report, long waitMs, TermSeq knownStamp, long sentMono, long sentWall,
      String reason) implements Action {}

  /**
   * Run {@code steps} (the part of the transition up to its next gate) in order and answer with one
   * TransitionFinished. The executor must not begin after {@code notAfterMono} on its monotonic clock
   * (the end of the lease or permit a gate checked; Long.MAX_VALUE when none): it then answers Failed.
   */
  record RunSteps(TermSeq stamp, NodeState from, NodeState to, List<Step> steps, StepContext context,
      long notAfterMono) implements Action {}

  /** Stop PostgreSQL now: immediate mode, then SIGKILL of the postmaster if it does not go. */
  record FencePostgres(String reason) implements Action {}

  /** Ensure: start PostgreSQL; {@code readOnly} keeps default_transaction_read_only on. */
  record StartPostgres(boolean readOnly) implements Action {}

  /** Ensure: stop PostgreSQL cleanly (fast mode) in a state where it must not run. */
  record StopPostgres(String reason) implements Action {}

  /** Ensure: replication slots and HBA entries for these peers (create, advance, drop removed ones). */
  record MaintainPeers(List<PeerInfo> peers) implements Action {}

  /** Failsafe: ask each of {@code peers} to confirm {@code term} and promise; answers come as PeerConfirmation. */
  record AskPeers(long round, long term, List<PeerInfo> peers) implements Action {}

  /** The answer to PeerPromiseRequest {@code requestId}: the term this keeper knows, and its promise. */
  record AnswerPeer(long requestId, int primaryId, long term, boolean ok, String reason) implements Action {}

  record PersistState(Persisted state) implements Action {}

  /** A transition failed or is unsupported: log it loudly; the next report carries it to the controller. */
  record ReportError(TermSeq stamp, String detail) implements Action {}

  /** The controller confirmed the drop: the keeper stops for good. */
  record LeaveFormation() implements Action {}
}
