package io.pgwarden.persistence;

import io.pgwarden.model.DecisionInputs;
import io.pgwarden.model.FormationEvent;
import io.pgwarden.model.FormationSettings;
import io.pgwarden.model.Goal;
import io.pgwarden.model.JournalEvent;
import io.pgwarden.model.Lsn;
import io.pgwarden.model.NodeAddress;
import io.pgwarden.model.NodeEvent;
import io.pgwarden.model.NodeFacts;
import io.pgwarden.model.NodeSettings;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.PgStatus;
import io.pgwarden.model.RejoinInfo;
import io.pgwarden.model.Requester;
import io.pgwarden.model.TermSeq;
import java.util.List;

/** One instance of every journal event type, as the golden journal was first written from. */
final class SampleEvents {
  static final long T = 1_764_000_000_000L;

  static List<JournalEvent> all() {
    Requester op = new Requester("token:alice", "planned maintenance", "key-1");
    TermSeq s = new TermSeq(3, 17);
    return List.of(
        new FormationEvent.FormationCreated("default", FormationSettings.DEFAULT, op, T),
        new FormationEvent.FormationSettingsChanged(new FormationSettings("app", 1, 0), op, T + 1),
        new FormationEvent.NodeRegistered(1, "node_1", new NodeAddress("127.0.0.1", 5433), "http://127.0.0.1:8101",
            NodeSettings.DEFAULT, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", T + 2),
        new FormationEvent.NodeSettingsChanged(1, new NodeSettings(100, true), op, T + 3),
        new FormationEvent.Decided(s, List.of(new Goal(1, NodeState.PREPARE_PROMOTION, s),
            new Goal(2, NodeState.DRAINING, s)), "failover-two-nodes", "primary node_2 failed",
            new DecisionInputs("tick", List.of(new NodeFacts(1, NodeState.SECONDARY, NodeState.SECONDARY,
                PgStatus.RUNNING, 1, Lsn.parse("0/3000148"), 120L, true, 80L, "probe", 2400L, true)), 0L, 5_000),
            Requester.CONTROLLER, T + 4),
        new FormationEvent.TermRaised(4, "controller start", T + 5),
        new FormationEvent.QuorumConfirmed(1, 1, List.of(2, 3), T + 6),
        new FormationEvent.SystemIdentifierSet(7_300_000_000_000_000_001L, 1, T + 7),
        new FormationEvent.NodeRemoved(2, "dropped by operator", op, T + 8),
        new FormationEvent.FormationDropped(op, T + 9),
        new NodeEvent.Registered("default", 1, "node_1", new NodeAddress("127.0.0.1", 5433), NodeSettings.DEFAULT, T),
        new NodeEvent.StateReached(NodeState.SECONDARY, s, 2, Lsn.parse("0/5000060"), T + 1),
        new NodeEvent.HealthChanged(false, "controller-probe", "connection refused", T + 2),
        new NodeEvent.SettingsChanged(new NodeSettings(0, false), op, T + 3),
        new NodeEvent.Rewound(new RejoinInfo(s, "pg_rewind", 8192, 1, 2), T + 4),
        new NodeEvent.ReportRejected("lsn-backwards", "0/5000060 after 0/6000000 on timeline 2", T + 5),
        new NodeEvent.Fenced(3, T + 6),
        new NodeEvent.Dropped(op, T + 7));
  }

  private SampleEvents() {}
}
