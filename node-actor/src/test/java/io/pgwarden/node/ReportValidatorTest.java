package io.pgwarden.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgwarden.model.Lsn;
import io.pgwarden.model.NodeReport;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.PgStatus;
import io.pgwarden.model.TermSeq;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReportValidatorTest {
  static NodeReport r(long sysid, int tli, String lsn, String replay, boolean standby) {
    return new NodeReport(standby ? NodeState.SECONDARY : NodeState.PRIMARY, TermSeq.NONE, 1, PgStatus.RUNNING,
        standby, sysid, tli, Lsn.parse(lsn), Lsn.parse(replay), "", List.of(), null, null, false, null, null);
  }

  @Test
  void foreignSystemIdentifierIsRefused() {
    var a = ReportValidator.check(7, null, r(8, 1, "0/10", "0/10", false));
    assertEquals("foreign-system-identifier", a.orElseThrow().kind());
    assertTrue(ReportValidator.check(0, null, r(8, 1, "0/10", "0/10", false)).isEmpty(), "unknown formation id");
    assertTrue(ReportValidator.check(7, null, r(0, 1, "0/10", "0/10", false)).isEmpty(), "no PostgreSQL yet");
  }

  @Test
  void timelineMayOnlyGrow() {
    assertEquals("timeline-regressed",
        ReportValidator.check(7, r(7, 3, "0/10", "0/10", false), r(7, 2, "0/20", "0/20", false)).orElseThrow().kind());
    assertTrue(ReportValidator.check(7, r(7, 2, "0/90", "0/90", false), r(7, 3, "0/20", "0/20", false)).isEmpty(),
        "a rewind moves to a newer timeline at a lower position");
  }

  @Test
  void positionMayNotGoBackWithinATimeline() {
    assertEquals("lsn-backwards",
        ReportValidator.check(7, r(7, 1, "0/90", "0/90", false), r(7, 1, "0/20", "0/20", false)).orElseThrow().kind());
    // a standby's receive position restarts from its replay position when PostgreSQL restarts
    assertTrue(ReportValidator.check(7, r(7, 1, "0/90", "0/50", true), r(7, 1, "0/60", "0/60", true)).isEmpty());
    assertEquals("lsn-backwards",
        ReportValidator.check(7, r(7, 1, "0/90", "0/50", true), r(7, 1, "0/60", "0/40", true)).orElseThrow().kind());
    assertTrue(ReportValidator.check(7, r(7, 1, "0/90", "0/90", false), r(7, 1, "0/0", "0/0", false)).isEmpty(),
        "a stopped PostgreSQL reports no position");
  }
}
