package io.pgwarden.api;

import io.pgwarden.model.NodeReport;
import io.pgwarden.model.ReportReply;
import io.pgwarden.model.Requester;
import io.pgwarden.model.TermSeq;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;

/**
 * What the HTTP routes ask of the controller. Every method that can be refused fails its stage with an
 * {@link ApiException}; a refused call changes nothing. Implemented by the controller module.
 */
public interface ControllerService {

  CompletionStage<Dto.FormationSummary> createFormation(Dto.CreateFormation request, Requester by);

  CompletionStage<List<Dto.FormationSummary>> formations();

  CompletionStage<Void> dropFormation(String formation, Requester by);

  CompletionStage<Dto.Registration> register(String formation, Dto.RegisterNode request);

  /**
   * A keeper's report. When the node's goal is not newer than {@code knownGoal}, the answer may be held
   * for up to {@code wait} and is sent at once when the goal changes (the long-poll).
   */
  CompletionStage<ReportReply> report(String formation, int nodeId, NodeReport report, TermSeq knownGoal,
      Duration wait);

  CompletionStage<Dto.FormationState> state(String formation);

  CompletionStage<Dto.Uris> uris(String formation);

  CompletionStage<Dto.Settings> settings(String formation);

  /** Newest first; {@code before} pages backwards by ordering; {@code sinceMillis} bounds by time. */
  CompletionStage<Dto.EventPage> events(String formation, Long before, Long sinceMillis, int limit);

  /** Events of the formation as they are journaled, starting after {@code afterOrdering}. */
  Source<Dto.EventView, NotUsed> liveEvents(String formation, long afterOrdering);

  CompletionStage<Dto.Operation> perform(String formation, Dto.OperatorRequest request, Requester by);

  CompletionStage<Dto.Operation> operation(String formation, String operationId);

  /** The node a credential belongs to, by the SHA-256 hex of the credential. */
  Optional<Principal.Node> nodeByCredentialHash(String sha256Hex);

  /**
   * The audit of a formation's journal: primaries, incidents, findings, and with {@code at} the state at
   * that instant. Times are epoch milliseconds; null means unbounded. The answer is the audit report as
   * a JSON-ready object.
   */
  CompletionStage<Object> audit(String formation, Long since, Long until, Long at);

  /** The formation's timeline as a self-contained HTML page (no script, no external resources). */
  CompletionStage<String> timelinePage(String formation, Long since, Long until);

  /** Prometheus text exposition of the controller's metrics. */
  String metrics();

  /** True once the journal is recovered and every formation supervisor runs. */
  boolean ready();
}
