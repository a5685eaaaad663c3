package io.pgwarden.node;

import io.pgwarden.model.NodeReport;
import java.util.Optional;

/**
 * Refuses reports that cannot be true of the node they claim to come from: a system identifier that
 * is not the formation's, a timeline lower than one already reported, or a position that goes
 * backwards within a timeline. Pure; used by the controller before a report is believed, and the
 * refusals are journaled by the node's NodeActor.
 */
public final class ReportValidator {
  private ReportValidator() {}

  /** Why a report is refused: a stable kind ("foreign-system-identifier", ...) and a readable detail. */
  public record Anomaly(String kind, String detail) {}

  /**
   * @param formationSystemId the formation's system identifier, 0 when not known yet
   * @param previous the node's last accepted report in this controller incarnation, or null
   */
  public static Optional<Anomaly> check(long formationSystemId, NodeReport previous, NodeReport report) {
    if (formationSystemId != 0 && report.systemIdentifier() != 0 && report.systemIdentifier() != formationSystemId) {
      return Optional.of(new Anomaly("foreign-system-identifier", "system identifier "
          + Long.toUnsignedString(report.systemIdentifier()) + " is not the formation's "
          + Long.toUnsignedString(formationSystemId)));
    }
    if (previous == null || report.timeline() == 0 || previous.timeline() == 0) return Optional.empty();
    if (report.timeline() < previous.timeline()) {
      return Optional.of(new Anomaly("timeline-regressed", "timeline " + report.timeline() + " after "
          + previous.timeline()));
    }
    // On a standby the receive position restarts from the replay position when PostgreSQL restarts, so
    // only the replay position must never go back; on a primary the flush position.
    boolean standby = report.inRecovery() && previous.inRecovery();
    var now = standby ? report.replayLsn() : report.lsn();
    var before = standby ? previous.replayLsn() : previous.lsn();
    boolean comparable = report.timeline() == previous.timeline() && report.inRecovery() == previous.inRecovery()
        && !now.isZero() && !before.isZero();
    if (comparable && now.compareTo(before) < 0) {
      return Optional.of(new Anomaly("lsn-backwards", now + " after " + before + " on timeline " + report.timeline()));
    }
    return Optional.empty();
  }
}
