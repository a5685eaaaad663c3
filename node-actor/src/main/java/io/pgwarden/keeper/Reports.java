package io.pgwarden.keeper;

import io.pgwarden.model.NodeReport;
import io.pgwarden.model.PgStatus;

/**
 * When to report and what. One report every report interval; at once when something happened (a state
 * reached, an error, a fence, a restart) or when the permit gate needs a fresh confirmation; when idle,
 * a long-poll (the controller holds the answer until the goal changes or the wait ends).
 */
final class Reports {
  private Reports() {}

  static void sendIfDue(Run r) {
    KeeperState.Builder s = r.s;
    if (s.leaving) return; // the drop is confirmed: nothing more to say
    KeeperState.Reporting rep = s.reporting;
    boolean confirm = Transitions.wantsConfirmation(r);
    long interval = r.t.reportIntervalMs();
    // the first report waits (a little) for the first facts, so it does not claim PostgreSQL is down
    if (s.facts == null && r.mono - s.startedMono < interval && !confirm) return;
    boolean overdue = rep.outstanding() && r.mono - rep.lastSentMono() > rep.lastSentWaitMs() + interval;
    boolean due = confirm || rep.urgentWhy() != null || rep.lastSentMono() == null
        || (!rep.outstanding() || overdue) && r.mono - rep.lastSentMono() >= interval;
    if (!due) return;
    boolean idle = r.idle() && !confirm;
    long waitMs = idle ? interval : 0;
    String why = confirm ? "permit confirmation" : rep.urgentWhy() != null ? rep.urgentWhy()
        : idle ? "long-poll" : "periodic";
    r.emit(new Action.SendReport(report(r), waitMs, s.node.executed(), r.mono, r.wall, why));
    s.reporting = rep.sent(r.mono, waitMs);
    if (confirm) Transitions.confirmationSent(r);
  }

  /**
   * The controller cannot be counted on: the latest report failed, or no answer came for a report
   * interval beyond the long-poll wait.
   */
  static boolean controllerUnreachable(Run r) {
    KeeperState.Reporting rep = r.s.reporting;
    if (rep.lastFailed()) return true;
    long since = rep.lastReplyMono() != null ? rep.lastReplyMono() : r.s.startedMono;
    return r.mono - since > rep.lastSentWaitMs() + r.t.reportIntervalMs();
  }

  static NodeReport report(Run r) {
    KeeperState.Builder s = r.s;
    PgFacts f = s.facts == null ? PgFacts.stopped() : s.facts;
    PgStatus pg = EnsureState.gaveUp(r) ? PgStatus.FAILED : f.pg();
    return new NodeReport(s.current(), s.node.executed(), s.node.knownTerm(), pg, f.inRecovery(),
        f.systemIdentifier(), f.timeline(), f.lsn(), f.replayLsn(), f.syncStandbyNames(), f.walSenders(),
        f.walReceiver(), f.primaryProbeAgeMs(), s.fencing.fencedAtMono() != null, s.lastRejoin, s.error);
  }
}
