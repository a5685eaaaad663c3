package io.pgwarden.controller.core;

import io.pgwarden.controller.audit.RecordedEvent;
import io.pgwarden.model.FormationEvent;
import io.pgwarden.model.FormationSettings;
import io.pgwarden.model.NodeEvent;
import io.pgwarden.model.NodeReport;
import io.pgwarden.model.NodeSettings;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.RejoinInfo;
import io.pgwarden.model.Timing;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * CoreHarness scenarios recorded as journals for the audit: the formation's events under
 * {@code formation|f}, every node's notes under {@code node|f|id} as a NodeActor journals them (a state
 * only when the state or the executed stamp changes, a rewind or a fence only when it is new), plus what
 * the harness itself says at chosen instants, to check the audit's {@code stateAt} against.
 */
public final class AuditScenarios {
  private AuditScenarios() {}

  /** What the harness says at one instant: every event journaled up to {@code at} is included. */
  public record Snapshot(String label, long at, long term, Integer writer, SortedMap<Integer, NodeState> reported,
      SortedMap<Integer, NodeState> goals, FormationSettings settings, SortedMap<Integer, NodeSettings> nodeSettings) {}

  /** A scenario's journal, its snapshots and named instants. */
  public record Recording(String formation, List<RecordedEvent> events, List<Snapshot> snapshots,
      Map<String, Long> marks, Timing timing, List<String> rules) {

    public Snapshot snapshot(String label) {
      return snapshots.stream().filter(s -> s.label().equals(label)).findFirst()
          .orElseThrow(() -> new AssertionError("no snapshot " + label));
    }

    public long mark(String label) {
      Long t = marks.get(label);
      if (t == null) throw new AssertionError("no mark " + label + " in " + marks.keySet());
      return t;
    }
  }

  /** Records a harness while a scenario drives it. */
  static final class Recorder {
    final CoreHarness h;
    final List<Snapshot> snapshots = new ArrayList<>();
    final Map<String, Long> marks = new LinkedHashMap<>();

    Recorder(CoreHarness h) {
      this.h = h;
    }

    /**
     * Records the harness now, then moves its clocks on by 1 ms so that nothing journaled later shares the
     * snapshot's instant.
     */
    void snap(String label) {
      TreeMap<Integer, NodeState> reported = new TreeMap<>();
      TreeMap<Integer, NodeState> goals = new TreeMap<>();
      TreeMap<Integer, NodeSettings> settings = new TreeMap<>();
      for (Member m : h.f.members().values()) {
        NodeReport r = h.obs.of(m.nodeId()).report();
        if (r != null) reported.put(m.nodeId(), r.state());
        goals.put(m.nodeId(), m.goalState());
        settings.put(m.nodeId(), m.settings());
      }
      snapshots.add(new Snapshot(label, h.wall, h.f.term(), h.writer(), Collections.unmodifiableSortedMap(reported),
          Collections.unmodifiableSortedMap(goals), h.f.settings(), Collections.unmodifiableSortedMap(settings)));
      h.mono += 1;
      h.wall += 1;
    }

    void mark(String label) {
      marks.put(label, h.wall);
    }

    /** Node {@code id} reports once more, now telling how it rejoined (a NodeEvent.Rewound follows). */
    void reportRewind(int id, String method, long bytes) {
      CoreHarness.Sim s = h.sim(id);
      NodeReport r = h.reportOf(s);
      RejoinInfo info = new RejoinInfo(s.executed, method, bytes, Math.max(1, s.timeline - 1), s.timeline);
      h.run(new Input.Report(id, new NodeReport(r.state(), r.executed(), r.knownTerm(), r.pg(), r.inRecovery(),
          r.systemIdentifier(), r.timeline(), r.lsn(), r.replayLsn(), r.syncStandbyNames(), r.walSenders(),
          r.walReceiver(), r.primaryProbeAgeMs(), r.fenced(), info, r.error())));
    }

    Recording done() {
      return new Recording(h.f.name(), journalOf(h), List.copyOf(snapshots), Map.copyOf(marks), h.t, h.rules());
    }
  }

  /** The harness's journal as the supervisor and the node actors would have persisted it. */
  public static List<RecordedEvent> journalOf(CoreHarness h) {
    String f = h.f.name();
    List<RecordedEvent> out = new ArrayList<>();
    long seq = 0;
    for (FormationEvent e : h.journal) out.add(RecordedEvent.ofFormation(f, ++seq, e));
    Map<Integer, Long> seqs = new HashMap<>();
    Map<Integer, NodeEvent.StateReached> lastState = new HashMap<>();
    Map<Integer, RejoinInfo> lastRejoin = new HashMap<>();
    Map<Integer, Long> lastFence = new HashMap<>();
    for (Outcome.NodeNote n : h.notes) {
      int id = n.nodeId();
      NodeEvent e = n.event();
      if (e instanceof NodeEvent.StateReached s) {
        NodeEvent.StateReached prev = lastState.get(id);
        if (prev != null && prev.state() == s.state() && prev.stamp().equals(s.stamp())) continue;
        lastState.put(id, s);
      } else if (e instanceof NodeEvent.Rewound w) {
        if (Objects.equals(lastRejoin.get(id), w.rejoin())) continue;
        lastRejoin.put(id, w.rejoin());
      } else if (e instanceof NodeEvent.Fenced fe) {
        if (Objects.equals(lastFence.get(id), fe.term())) continue;
        lastFence.put(id, fe.term());
      }
      long s = seqs.merge(id, 1L, Long::sum);
      out.add(RecordedEvent.ofNode(f, id, s, e));
    }
    return out;
  }

  static void kill(CoreHarness h, int id) {
    h.with(id, s -> {
      s.up = false;
      s.pgUp = false;
    });
    for (CoreHarness.Sim s : h.nodes.values()) {
      if (s.id != id) s.streaming = false;
    }
  }

  static void revive(CoreHarness h, int id) {
    h.with(id, s -> {
      s.up = true;
      s.pgUp = true;
      s.streaming = true;
    });
    for (CoreHarness.Sim s : h.nodes.values()) s.streaming = true;
  }

  /** Rounds until the old primary executes its rejoin goal, then it reports the rewind it did. */
  static void rejoinWithRewind(Recorder r, int id, long bytes) {
    CoreHarness h = r.h;
    h.until(() -> h.sim(id).state == NodeState.CATCHINGUP, 20_000);
    h.advance(100);
    r.reportRewind(id, "pg_rewind", bytes);
  }

  /**
   * Two nodes; the primary a's host dies, b is promoted once a's lease has certainly run out; a comes back,
   * is rewound (discarding {@code rewindBytes}) and follows b.
   */
  public static Recording twoNodeFailover(long rewindBytes) {
    CoreHarness h = CoreHarness.formation("a", "b");
    Recorder r = new Recorder(h);
    h.live(1_000);
    r.snap("steady");
    h.report(1);
    r.mark("last-grant-a");
    kill(h, 1);
    h.until(() -> h.goal(2) == NodeState.PREPARE_PROMOTION, 20_000);
    r.mark("detected");
    r.snap("candidate");
    h.until(() -> h.goal(2) == NodeState.STOP_REPLICATION, 20_000);
    r.mark("permitted");
    h.until(() -> h.goal(2) == NodeState.WAIT_PRIMARY, 20_000);
    r.mark("writes-open");
    r.snap("writes-open");
    h.live(2_000);
    r.snap("a-down");
    r.mark("revive-a");
    revive(h, 1);
    rejoinWithRewind(r, 1, rewindBytes);
    h.converge();
    r.snap("rejoined");
    return r.done();
  }

  /** Two nodes, an asynchronous standby and failover_data_loss_allowed: the failover journals WAL at risk. */
  public static Recording asyncFailoverWithRisk(long aheadBytes) {
    CoreHarness h = CoreHarness.formation("a", "b");
    Recorder r = new Recorder(h);
    h.operator("set-replication-quorum", "b", 0L, false, null);
    h.operator("set-failover-data-loss-allowed", null, 1_000_000L, false, null);
    h.converge();
    h.with(1, s -> s.lsn += aheadBytes);
    h.round();
    r.snap("async");
    kill(h, 1);
    h.until(() -> h.goal(2) == NodeState.WAIT_PRIMARY, 20_000);
    h.converge();
    r.snap("end");
    return r.done();
  }

  /** Switchover from a to b, then back to a, both by the operator "alice". */
  public static Recording switchoverAndBack() {
    CoreHarness h = CoreHarness.formation("a", "b");
    Recorder r = new Recorder(h);
    r.snap("steady");
    r.mark("switchover-1");
    h.operator("switchover", null, null, false, "s1");
    r.snap("requested");
    h.until(() -> h.goal(2) == NodeState.WAIT_PRIMARY, 20_000);
    r.snap("writes-open-b");
    h.converge();
    r.snap("on-b");
    r.mark("switchover-2");
    h.operator("switchover", null, null, false, "s2");
    h.converge();
    r.snap("on-a");
    return r.done();
  }

  /** Three nodes, c preferred (priority 90); a dies; c is elected; a comes back, is rewound and follows. */
  public static Recording threeNodeElection(long rewindBytes) {
    CoreHarness h = CoreHarness.formation("a", "b", "c");
    Recorder r = new Recorder(h);
    h.operator("set-candidate-priority", "c", 90L, false, null);
    h.converge();
    r.snap("steady");
    kill(h, 1);
    h.until(() -> h.goal(3) == NodeState.WAIT_PRIMARY, 30_000);
    r.snap("writes-open-c");
    h.converge();
    r.snap("on-c");
    revive(h, 1);
    rejoinWithRewind(r, 1, rewindBytes);
    h.converge();
    r.snap("rejoined");
    return r.done();
  }

  /** Maintenance of the standby b, then of the primary a (a failover to b), each ended by the operator. */
  public static Recording maintenance() {
    CoreHarness h = CoreHarness.formation("a", "b");
    Recorder r = new Recorder(h);
    r.snap("steady");
    h.operator("maintenance-on", "b", null, false, "m1");
    h.converge();
    r.snap("b-in-maintenance");
    h.operator("maintenance-off", "b", null, false, "m2");
    h.converge();
    r.snap("b-back");
    h.operator("maintenance-on", "a", null, true, "m3");
    h.converge();
    r.snap("a-in-maintenance");
    h.operator("maintenance-off", "a", null, false, "m4");
    h.converge();
    r.snap("a-back");
    return r.done();
  }

  /** A standby's host dies and comes back after a while: a node loss, and P2 turns the primary async. */
  public static Recording standbyLoss() {
    CoreHarness h = CoreHarness.formation("a", "b");
    Recorder r = new Recorder(h);
    h.with(2, s -> {
      s.up = false;
      s.pgUp = false;
    });
    h.until(() -> h.goal(1) == NodeState.WAIT_PRIMARY, 20_000);
    h.converge();
    r.snap("b-down");
    h.with(2, s -> {
      s.up = true;
      s.pgUp = true;
    });
    h.converge();
    r.snap("b-back");
    return r.done();
  }

  /**
   * Three nodes in cycles: the primary's host dies and comes back (election, rewind, rejoin), a switchover,
   * maintenance of a standby; for volume.
   */
  public static Recording threeNodeCycles(int n) {
    CoreHarness h = CoreHarness.formation("a", "b", "c");
    Recorder r = new Recorder(h);
    for (int i = 0; i < n; i++) {
      int w = h.writer();
      switch (i % 3) {
        case 0 -> {
          kill(h, w);
          h.until(() -> h.writer() != null && h.writer() != w && h.goal(h.writer()) == NodeState.WAIT_PRIMARY,
              30_000);
          revive(h, w);
          rejoinWithRewind(r, w, 8192L * (i + 1));
        }
        case 1 -> {
          h.operator("switchover", null, null, false, "switchover-" + i);
          // with three nodes the old primary waits for the election with PostgreSQL running: a lease wait
          h.until(() -> h.writer() != null && h.writer() != w && h.goal(h.writer()) == NodeState.PRIMARY, 30_000);
        }
        default -> {
          String standby = h.f.active().stream().filter(m -> m.nodeId() != w).findFirst().orElseThrow().name();
          h.operator("maintenance-on", standby, null, false, "maintenance-on-" + i);
          h.converge();
          h.operator("maintenance-off", standby, null, false, "maintenance-off-" + i);
        }
      }
      h.converge();
    }
    return r.done();
  }

  /** A failover scenario repeated: cycles of automatic failover and switchover, for volume. */
  public static Recording cycles(int n) {
    CoreHarness h = CoreHarness.formation("a", "b");
    Recorder r = new Recorder(h);
    for (int i = 0; i < n; i++) {
      int w = h.writer();
      int other = w == 1 ? 2 : 1;
      if (i % 2 == 0) {
        kill(h, w);
        h.until(() -> h.writer() != null && h.writer() == other && h.goal(other) == NodeState.WAIT_PRIMARY, 30_000);
        revive(h, w);
        rejoinWithRewind(r, w, 4096L * (i + 1));
      } else {
        h.operator("switchover", null, null, false, "cycle-" + i);
      }
      h.converge();
    }
    return r.done();
  }
}
