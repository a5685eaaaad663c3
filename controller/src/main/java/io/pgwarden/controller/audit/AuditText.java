package io.pgwarden.controller.audit;

import io.pgwarden.controller.audit.AuditReport.Finding;
import io.pgwarden.controller.audit.AuditReport.FormationSnapshot;
import io.pgwarden.controller.audit.AuditReport.Incident;
import io.pgwarden.controller.audit.AuditReport.NodeSnapshot;
import io.pgwarden.controller.audit.AuditReport.Phase;
import io.pgwarden.controller.audit.AuditReport.Trigger;
import io.pgwarden.controller.audit.AuditReport.WritablePeriod;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/** The audit as plain text, for {@code pgwarden audit}: incidents with their phases and durations. */
public final class AuditText {
  private static final DateTimeFormatter ISO =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
  private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneOffset.UTC);

  private AuditText() {}

  /** An instant as ISO-8601 in UTC with milliseconds. */
  public static String instant(Long ms) {
    return ms == null ? "-" : ISO.format(Instant.ofEpochMilli(ms));
  }

  /**
   * An instant as the CLI takes it ({@code --since}, {@code --until}, {@code --at}): ISO-8601 with a zone
   * ("2026-11-25T10:15:30Z", "2026-11-25T11:15:30+01:00"), epoch milliseconds ("1764000000000"), or a time
   * before {@code now} ("-90s", "-15m", "-2h", "-7d").
   */
  public static long parseInstant(String text, long now) {
    String s = text == null ? "" : text.trim();
    if (s.matches("-\\d+[smhd]")) {
      long n = Long.parseLong(s.substring(1, s.length() - 1));
      long unit = switch (s.charAt(s.length() - 1)) {
        case 's' -> 1_000L;
        case 'm' -> 60_000L;
        case 'h' -> 3_600_000L;
        default -> 86_400_000L;
      };
      return now - n * unit;
    }
    if (s.matches("\\d{1,18}")) return Long.parseLong(s);
    try {
      return java.time.OffsetDateTime.parse(s).toInstant().toEpochMilli();
    } catch (java.time.format.DateTimeParseException e) {
      throw new IllegalArgumentException("'" + text + "' is not an instant: use ISO-8601 with a zone"
          + " (2026-11-25T10:15:30Z), epoch milliseconds, or a time ago such as -15m, -2h, -7d");
    }
  }

  static String clock(long ms) {
    return CLOCK.format(Instant.ofEpochMilli(ms));
  }

  /** A duration for people: "850 ms", "2.35 s", "4 min 05 s", "3 h 02 min", "2 d 04 h". */
  public static String duration(long ms) {
    if (ms < 0) return "-" + duration(-ms);
    if (ms < 1_000) return ms + " ms";
    if (ms < 60_000) {
      String s = String.format(Locale.ROOT, "%.2f", ms / 1000.0);
      s = s.replaceAll("0+$", "").replaceAll("\\.$", "");
      return s + " s";
    }
    if (ms < 3_600_000) return String.format(Locale.ROOT, "%d min %02d s", ms / 60_000, ms / 1000 % 60);
    if (ms < 86_400_000) return String.format(Locale.ROOT, "%d h %02d min", ms / 3_600_000, ms / 60_000 % 60);
    return String.format(Locale.ROOT, "%d d %02d h", ms / 86_400_000, ms / 3_600_000 % 24);
  }

  static String offset(long ms) {
    return (ms >= 0 ? "+" : "") + duration(ms);
  }

  public static String render(AuditReport r) {
    StringBuilder b = new StringBuilder();
    AuditReport.JournalSpan j = r.journal();
    b.append("Audit of formation ").append(r.formation()).append(": ").append(j.events()).append(" events (")
        .append(j.formationEvents()).append(" formation, ").append(j.nodeEvents()).append(" node)");
    if (j.firstAt() != null) b.append(" from ").append(instant(j.firstAt())).append(" to ").append(instant(j.lastAt()));
    b.append('\n');
    AuditReport.Window w = r.query();
    b.append("Window: ").append(w.since() == null && w.until() == null ? "the whole journal"
        : "since " + instant(w.since()) + " until " + instant(w.until()))
        .append("; judged at ").append(instant(w.now())).append("; lease bound ").append(duration(w.leaseBoundMs()))
        .append("; unreached goals flagged after ").append(duration(w.goalReachBoundMs()))
        .append(", intermediate states after ").append(duration(w.stuckBoundMs())).append('\n');

    b.append("\nPrimaries (writable periods)\n");
    if (r.primaries().isEmpty()) b.append("  none\n");
    for (WritablePeriod p : r.primaries()) {
      b.append(String.format(Locale.ROOT, "  %-14s term %-4d %s .. %s  %s%n", p.node() + " (" + p.nodeId() + ")",
          p.term(), instant(p.from()), p.open() ? "still writable          " : instant(p.until()), ended(p)));
    }

    b.append("\nIncidents\n");
    if (r.incidents().isEmpty()) b.append("  none\n");
    for (Incident i : r.incidents()) incident(b, i);

    b.append("\nFindings\n");
    if (r.findings().isEmpty()) b.append("  none: nothing that should never happen\n");
    for (Finding f : r.findings()) {
      b.append("  [").append(f.severity()).append("] ").append(f.kind()).append(" at ").append(instant(f.at()))
          .append(": ").append(f.message()).append('\n');
    }
    if (r.stateAt() != null) {
      b.append('\n').append(renderState(r.stateAt()));
    }
    return b.toString();
  }

  private static String ended(WritablePeriod p) {
    String opened = "opened by " + p.openedBy();
    if (p.open()) return opened;
    String how = switch (p.untilBasis() == null ? "" : p.untilBasis()) {
      case "lease" -> "write lease certainly over (last grant " + clock(p.lastGrantAt()) + ")";
      case "lease-upper-bound" -> "write lease certainly over (counted from the decision)";
      case "fenced" -> "keeper reported it fenced";
      default -> p.untilBasis();
    };
    return opened + "; goal taken " + clock(p.goalUntil()) + " by " + p.closedBy() + "; writes stopped: " + how;
  }

  private static void incident(StringBuilder b, Incident i) {
    b.append("  [").append(i.id()).append("] ").append(i.kind());
    if (i.node() != null) b.append(" of ").append(i.node()).append(" (").append(i.nodeId()).append(')');
    if (i.newPrimary() != null) b.append(" -> ").append(i.newPrimary()).append(" (").append(i.newPrimaryId()).append(')');
    b.append("  term ").append(i.term()).append("  ").append(i.status()).append('\n');
    b.append("       started ").append(instant(i.startedAt()));
    if (i.endedAt() != null) b.append(", ended ").append(instant(i.endedAt())).append(", took ")
        .append(duration(i.durationMs()));
    b.append('\n');
    Trigger t = i.trigger();
    if (t != null) {
      if (t.kind().equals("operator")) {
        b.append("       requested by ").append(t.who());
        if (t.reason() != null) b.append(" (").append(t.reason()).append(')');
        if (t.idempotencyKey() != null) b.append(", key ").append(t.idempotencyKey());
        b.append('\n');
      } else if (t.cause() != null) {
        b.append("       trigger: ").append(t.cause()).append('\n');
      }
      if (t.observer() != null) {
        b.append("       seen by ").append(t.observer());
        if (t.observerDetail() != null) b.append(": ").append(t.observerDetail());
        b.append('\n');
      }
      if (t.rule() != null && t.stamp() != null) {
        b.append("       decision ").append(t.stamp()).append(' ').append(t.rule()).append(": ")
            .append(t.decisionReason()).append('\n');
      }
    }
    if (i.walAtRiskBytes() != null || i.bytesDiscarded() != null) {
      b.append("       WAL at risk at decision time: ")
          .append(i.walAtRiskBytes() == null ? "not computed" : i.walAtRiskBytes() + " bytes");
      if (i.bytesDiscarded() != null) {
        b.append("; discarded by rewind: ").append(i.bytesDiscarded()).append(" bytes (").append(i.rejoinMethod())
            .append(')');
      }
      b.append('\n');
    }
    if (i.detectionMs() != null || i.writeOutageMs() != null) {
      b.append("      ");
      if (i.detectionMs() != null) b.append(" detection ").append(duration(i.detectionMs())).append(';');
      if (i.writeOutageMs() != null) b.append(" writes unavailable ").append(duration(i.writeOutageMs())).append(';');
      b.setLength(b.length() - 1);
      b.append('\n');
    }
    for (Phase p : i.phases()) {
      b.append(String.format(Locale.ROOT, "       %10s  %-21s %-10s %s", offset(p.offsetMs()), p.name(),
          p.node() == null ? "" : p.node(), clock(p.at())));
      String what = p.rule() == null ? p.detail() : p.detail() == null ? p.rule() : p.rule() + ": " + p.detail();
      if (what != null) b.append("  ").append(what);
      b.append('\n');
    }
    if (!i.related().isEmpty()) b.append("       related: ").append(String.join(", ", i.related())).append('\n');
  }

  /** The formation at one instant, as a table. */
  public static String renderState(FormationSnapshot s) {
    StringBuilder b = new StringBuilder();
    b.append("State at ").append(instant(s.at())).append('\n');
    if (!s.exists()) {
      b.append("  the formation does not exist at that instant\n");
      return b.toString();
    }
    b.append("  term ").append(s.term()).append(", primary ")
        .append(s.primary() == null ? "none" : s.primary() + " (" + s.primaryNodeId() + ")");
    if (!s.leaseMayRun().isEmpty()) b.append(", write lease may run on ").append(s.leaseMayRun());
    if (s.failoverInProgress() != null) b.append(", ").append(s.failoverInProgress()).append(" in progress");
    b.append('\n');
    b.append("  settings: dbname ").append(s.settings().dbname()).append(", number_sync_standbys ")
        .append(s.settings().numberSyncStandbys()).append(", failover_data_loss_allowed ")
        .append(s.settings().failoverDataLossAllowed()).append('\n');
    b.append(String.format(Locale.ROOT, "  %-14s %-26s %-26s %-10s %-4s %-12s %s%n", "NODE", "REPORTED", "GOAL",
        "HEALTH", "TLI", "LSN", "PRIORITY/QUORUM"));
    for (NodeSnapshot n : s.nodes()) {
      b.append(String.format(Locale.ROOT, "  %-14s %-26s %-26s %-10s %-4s %-12s %s%n", n.name() + " (" + n.nodeId() + ")",
          n.reported() == null ? "-" : n.reported() + " " + n.reportedStamp(),
          n.goal() == null ? "-" : n.goal() + " " + n.goalStamp(),
          n.healthy() == null ? "unflagged" : n.healthy() ? "good" : "bad",
          n.timeline() == null ? "-" : n.timeline().toString(), n.lsn() == null ? "-" : n.lsn().toString(),
          n.settings() == null ? "-" : n.settings().candidatePriority() + "/" + n.settings().replicationQuorum()));
    }
    return b.toString();
  }
}
