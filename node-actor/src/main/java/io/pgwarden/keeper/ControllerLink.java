package io.pgwarden.keeper;

import io.pgwarden.api.ApiClient;
import io.pgwarden.model.NodeReport;
import io.pgwarden.model.ReportReply;
import io.pgwarden.model.TermSeq;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** How the keeper reaches its controller: one report, answered (possibly after a long-poll) or failed. */
public interface ControllerLink {

  /**
   * Posts {@code report}; the controller may hold the answer up to {@code waitMs} while the goal is not
   * newer than {@code known}. Never blocks; the future fails when no answer came in time.
   */
  CompletableFuture<ReportReply> report(NodeReport report, TermSeq known, long waitMs);

  /**
   * Over the HTTP API with the node's credential. The client's timeout is the report interval, so a
   * report's HTTP timeout is its long-poll wait plus one interval.
   */
  static ControllerLink http(ApiClient client, String formation, int nodeId) {
    return (report, known, waitMs) -> client.reportAsync(formation, nodeId, report, known, Duration.ofMillis(waitMs));
  }
}
