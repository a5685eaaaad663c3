package io.pgwarden.controller.audit;

import io.pgwarden.model.DecisionInputs;
import io.pgwarden.model.FormationEvent;
import io.pgwarden.model.FormationEvent.FailoverContext;
import io.pgwarden.model.FormationSettings;
import io.pgwarden.model.Goal;
import io.pgwarden.model.Lsn;
import io.pgwarden.model.NodeAddress;
import io.pgwarden.model.NodeEvent;
import io.pgwarden.model.NodeFacts;
import io.pgwarden.model.NodeSettings;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.PgStatus;
import io.pgwarden.model.Requester;
import io.pgwarden.model.TermSeq;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/** Hand-built journals: a formation and its nodes' events, with a clock that tests move by hand. */
final class JournalBuilder {
  static final long T0 = 1_764_000_000_000L;
  final String formation;
  final List<RecordedEvent> events = new ArrayList<>();
  final TreeMap<Integer, Long> nodeSeq = new TreeMap<>();
  final TreeMap<Integer, TermSeq> goalStamp = new TreeMap<>();
  long formationSeq;
  long now = T0;
  long term = 1;
  long seq;

  JournalBuilder(String formation) {
    this.formation = formation;
    add(new FormationEvent.FormationCreated(formation, FormationSettings.DEFAULT, Requester.of("test", ""), now));
  }

  JournalBuilder() {
    this("f");
  }

  JournalBuilder plus(long ms) {
    now += ms;
    return this;
  }

  JournalBuilder add(FormationEvent e) {
    events.add(RecordedEvent.ofFormation(formation, ++formationSeq, e));
    return this;
  }

  JournalBuilder node(int id, NodeEvent e) {
    long s = nodeSeq.merge(id, 1L, Long::sum);
    events.add(RecordedEvent.ofNode(formation, id, s, e));
    return this;
  }

  JournalBuilder register(int id, String name) {
    add(new FormationEvent.NodeRegistered(id, name, new NodeAddress("127.0.0.1", 5400 + id), "http://127.0.0.1:"
        + (8100 + id), NodeSettings.DEFAULT, "hash-" + name, now));
    return node(id, new NodeEvent.Registered(formation, id, name, new NodeAddress("127.0.0.1", 5400 + id),
        NodeSettings.DEFAULT, now));
  }

  static NodeFacts facts(int id, Long reportAgeMs) {
    return new NodeFacts(id, null, null, PgStatus.RUNNING, 1, Lsn.ZERO, reportAgeMs, true, 0L, "none", null, true);
  }

  /** One decision by the controller: {@code goals} alternates node ids and states. */
  JournalBuilder decide(String rule, boolean newTerm, Object... goals) {
    return decide(rule, newTerm, List.of(), null, Requester.CONTROLLER, null, goals);
  }

  JournalBuilder decide(String rule, boolean newTerm, List<NodeFacts> facts, Long walAtRisk, Requester by,
      FailoverContext ctx, Object... goals) {
    if (newTerm) term++;
    TermSeq stamp = new TermSeq(term, ++seq);
    List<Goal> list = new ArrayList<>();
    for (int i = 0; i < goals.length; i += 2) {
      int id = (Integer) goals[i];
      list.add(new Goal(id, (NodeState) goals[i + 1], stamp));
      goalStamp.put(id, stamp);
    }
    return add(new FormationEvent.Decided(stamp, list, rule, rule + " fired", new DecisionInputs("test", facts,
        walAtRisk, 60_000), by, now, ctx));
  }

  /** Node {@code id} reports {@code state}, having executed its latest goal. */
  JournalBuilder reach(int id, NodeState state) {
    return node(id, new NodeEvent.StateReached(state, goalStamp.getOrDefault(id, TermSeq.NONE), 1, Lsn.of(0x3000000),
        now));
  }

  JournalBuilder health(int id, boolean healthy, String observer, String detail) {
    return node(id, new NodeEvent.HealthChanged(healthy, observer, detail, now));
  }

  /** Two nodes, 1 primary and 2 secondary, all reached: the usual start. */
  static JournalBuilder primaryAndStandby() {
    JournalBuilder j = new JournalBuilder();
    j.plus(10).register(1, "a").decide("register", true, 1, NodeState.SINGLE).plus(100).reach(1, NodeState.SINGLE);
    j.plus(100).register(2, "b").decide("register", false, 2, NodeState.WAIT_STANDBY);
    j.plus(100).reach(2, NodeState.WAIT_STANDBY).decide("P1-single-to-wait-primary", false, 1, NodeState.WAIT_PRIMARY);
    j.plus(100).reach(1, NodeState.WAIT_PRIMARY).decide("S5-wait-standby-to-catchingup", false, 2, NodeState.CATCHINGUP);
    j.plus(100).reach(2, NodeState.CATCHINGUP).decide("S8-catchingup-to-secondary", false, 2, NodeState.SECONDARY);
    j.plus(100).reach(2, NodeState.SECONDARY).decide("P2-wait-primary-to-primary", false, 1, NodeState.PRIMARY);
    j.plus(100).reach(1, NodeState.PRIMARY);
    return j;
  }

  AuditReport audit() {
    return AuditReplay.replay(formation, events, AuditQuery.all());
  }

  AuditReport audit(AuditQuery q) {
    return AuditReplay.replay(formation, events, q);
  }
}
