package io.pgwarden.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgwarden.model.FormationSettings;
import io.pgwarden.model.Goal;
import io.pgwarden.model.Lsn;
import io.pgwarden.model.NodeSettings;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.PgStatus;
import io.pgwarden.model.Requester;
import io.pgwarden.model.TermSeq;
import io.pgwarden.model.Timing;
import java.util.List;

/** The JSON shapes of the HTTP API (snake_case on the wire, see io.pgwarden.persistence.Json). */
public final class Dto {
  private Dto() {}

  public record CreateFormation(String name, String dbname, Integer numberSyncStandbys, Long failoverDataLossAllowed,
      String reason) {}

  public record FormationSummary(String name, FormationSettings settings, long term, int nodes) {}

  /** A keeper registering its node; absent priority/quorum take the defaults (50, true). */
  public record RegisterNode(String name, String host, int port, String keeperApi, Integer candidatePriority,
      Boolean replicationQuorum) {}

  /**
   * The answer to a registration. {@code credential} is shown once and kept only as a hash;
   * {@code timing} is the controller's (the keeper must use the same lease, report interval and permit).
   */
  public record Registration(int nodeId, String name, String credential, Goal goal, NodeSettings settings,
      FormationSettings formationSettings, long term, Timing timing) {}

  /** One row of {@code show state}. {@code health}: "good", "bad" or "unknown". */
  public record NodeView(int nodeId, String name, String host, int port, NodeState reportedState,
      NodeState assignedState, TermSeq stamp, int timeline, Lsn lsn, PgStatus pg, String health,
      Long reportAgeMs, int candidatePriority, boolean replicationQuorum) {}

  /**
   * {@code writesOpen}: the controller has opened writes on {@code primaryNodeId} in the current term.
   * {@code systemIdentifier}: the formation's PostgreSQL system identifier (unsigned, as text), once its
   * first primary reported it; null before.
   */
  public record FormationState(String formation, long term, FormationSettings settings, Integer primaryNodeId,
      boolean writesOpen, String syncStandbyNames, List<NodeView> nodes, String systemIdentifier) {}

  public record Uris(String formation, String postgres, String jdbc) {}

  public record NodeSettingsView(int nodeId, String name, int candidatePriority, boolean replicationQuorum) {}

  public record Settings(String formation, FormationSettings settings, String syncStandbyNames,
      List<NodeSettingsView> nodes) {}

  /** One journal event as the API shows it; {@code event} is the stored JSON payload. */
  public record EventView(long ordering, String persistenceId, long sequenceNr, long at, String type,
      JsonNode event) {}

  public record EventPage(List<EventView> events, Long nextBefore) {}

  /**
   * An operator action: {@code kind} is failover, switchover, promotion, maintenance-on, maintenance-off,
   * drop-node, set-candidate-priority, set-replication-quorum, set-number-sync-standbys,
   * set-failover-data-loss-allowed. {@code node} names the target node (by name) where the kind has one.
   */
  public record OperatorRequest(String kind, String node, Boolean allowFailover, Boolean force, Long value,
      String reason, String idempotencyKey) {}

  /**
   * The resource an operator action creates. {@code status}: accepted, running, succeeded, failed.
   * A retried request with the same idempotency key returns the same operation.
   */
  public record Operation(String id, String formation, String kind, String node, String status, String message,
      Requester by, long createdAt, long updatedAt, TermSeq stamp) {}
}
