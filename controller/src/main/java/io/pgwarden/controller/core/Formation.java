package io.pgwarden.controller.core;

import io.pgwarden.model.FormationEvent;
import io.pgwarden.model.FormationEvent.FailoverContext;
import io.pgwarden.model.FormationSettings;
import io.pgwarden.model.Goal;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.Requester;
import io.pgwarden.model.TermSeq;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A formation as its journal folds it: members and their goals, settings, the term and decision
 * sequence, the last synchronous quorum the primary was seen applying, the failover in progress, and
 * the operations operators asked for (by idempotency key). Immutable; {@link #apply} is the only way it
 * changes, and it is the same fold for the live actor, its recovery, the simulator and the audit.
 */
public record Formation(
    String name,
    boolean exists,
    boolean dropped,
    FormationSettings settings,
    long term,
    long seq,
    SortedMap<Integer, Member> members,
    int nextNodeId,
    long systemIdentifier,
    SyncConfig confirmedQuorum,
    FailoverContext failover,
    SortedMap<String, OperationRecord> operations) {

  /** An operator action as journaled, found again by its idempotency key. */
  public record OperationRecord(String id, String kind, Requester by, TermSeq stamp, long at) {}

  public static Formation empty(String name) {
    return new Formation(name, false, false, FormationSettings.DEFAULT, 0, 0, Collections.emptySortedMap(), 1, 0,
        SyncConfig.NONE, null, Collections.emptySortedMap());
  }

  public TermSeq stamp() {
    return new TermSeq(term, seq);
  }

  public Optional<Member> member(int id) {
    return Optional.ofNullable(members.get(id));
  }

  public Optional<Member> memberByName(String n) {
    return members.values().stream().filter(m -> m.name().equals(n)).findFirst();
  }

  /** Members not being dropped, in node id order. */
  public List<Member> active() {
    List<Member> out = new java.util.ArrayList<>(members.size());
    for (Member m : members.values()) {
      if (m.goalState() != NodeState.DROPPED) out.add(m);
    }
    return Collections.unmodifiableList(out);
  }

  public Formation apply(FormationEvent e) {
    Builder b = new Builder(this);
    if (e instanceof FormationEvent.FormationCreated c) {
      b.exists(true).settings(c.settings()).op(c.by(), "create-formation", stamp(), c.at());
    } else if (e instanceof FormationEvent.FormationSettingsChanged c) {
      b.settings(c.settings()).op(c.by(), "set-formation-settings", stamp(), c.at());
    } else if (e instanceof FormationEvent.FormationDropped) {
      b.dropped();
    } else if (e instanceof FormationEvent.NodeRegistered r) {
      b.members.put(r.nodeId(), new Member(r.nodeId(), r.name(), r.address(), r.keeperApi(), r.settings(),
          r.credentialHash(), new Goal(r.nodeId(), NodeState.INIT, TermSeq.NONE)));
      b.nextNodeId = Math.max(nextNodeId, r.nodeId() + 1);
    } else if (e instanceof FormationEvent.NodeSettingsChanged c) {
      b.op(c.by(), "set-node-settings", stamp(), c.at());
      b.members.computeIfPresent(c.nodeId(), (k, v) -> v.withSettings(c.settings()));
    } else if (e instanceof FormationEvent.NodeRemoved r) {
      b.op(r.by(), "drop-node", stamp(), r.at());
      b.members.remove(r.nodeId());
    } else if (e instanceof FormationEvent.Decided d) {
      boolean opensWrites = false;
      for (Goal g : d.goals()) {
        b.members.computeIfPresent(g.nodeId(), (k, v) -> v.withGoal(g));
        opensWrites |= g.state().canTakeWrites();
      }
      b.term = Math.max(term, d.stamp().term());
      b.seq = Math.max(seq, d.stamp().seq());
      if (d.failover() != null) {
        b.failover = d.failover();
      } else if (opensWrites) {
        b.failover = null;
      }
      b.op(d.by(), d.rule(), d.stamp(), d.at());
    } else if (e instanceof FormationEvent.TermRaised t) {
      b.term = Math.max(term, t.term());
    } else if (e instanceof FormationEvent.QuorumConfirmed q) {
      b.confirmedQuorum = new SyncConfig(q.primaryId(), q.required(), new TreeSet<>(q.members()));
    } else if (e instanceof FormationEvent.SystemIdentifierSet s) {
      b.systemIdentifier = s.systemIdentifier();
    } else {
      throw new IllegalArgumentException("unknown formation event " + e);
    }
    return b.build();
  }

  /** Mutable copy used only inside {@link #apply}. */
  private static final class Builder {
    private final Formation f;
    boolean exists;
    boolean dropped;
    FormationSettings settings;
    long term;
    long seq;
    final TreeMap<Integer, Member> members;
    int nextNodeId;
    long systemIdentifier;
    SyncConfig confirmedQuorum;
    FailoverContext failover;
    TreeMap<String, OperationRecord> operations;

    Builder(Formation f) {
      this.f = f;
      exists = f.exists;
      dropped = f.dropped;
      settings = f.settings;
      term = f.term;
      seq = f.seq;
      members = new TreeMap<>(f.members);
      nextNodeId = f.nextNodeId;
      systemIdentifier = f.systemIdentifier;
      confirmedQuorum = f.confirmedQuorum;
      failover = f.failover;
      operations = null;
    }

    Builder exists(boolean v) {
      exists = v;
      return this;
    }

    Builder dropped() {
      dropped = true;
      return this;
    }

    Builder settings(FormationSettings s) {
      settings = s;
      return this;
    }

    Builder op(Requester by, String kind, TermSeq stamp, long at) {
      if (by == null || by.idempotencyKey() == null || by.idempotencyKey().isEmpty()) return this;
      if (f.operations.containsKey(by.idempotencyKey())) return this;
      operations = new TreeMap<>(f.operations);
      operations.put(by.idempotencyKey(), new OperationRecord("op-" + (f.operations.size() + 1), kind, by, stamp,
          at));
      return this;
    }

    Formation build() {
      return new Formation(f.name, exists, dropped, settings, term, seq, Collections.unmodifiableSortedMap(members),
          nextNodeId, systemIdentifier, confirmedQuorum, failover,
          operations == null ? f.operations : Collections.unmodifiableSortedMap(operations));
    }
  }
}
