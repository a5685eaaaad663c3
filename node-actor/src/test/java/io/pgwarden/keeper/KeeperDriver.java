package io.pgwarden.keeper;

import io.pgwarden.model.FormationSettings;
import io.pgwarden.model.Goal;
import io.pgwarden.model.Lease;
import io.pgwarden.model.NodeAddress;
import io.pgwarden.model.NodeSettings;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.PeerInfo;
import io.pgwarden.model.ReportReply;
import io.pgwarden.model.TermSeq;
import io.pgwarden.model.Timing;
import java.util.ArrayList;
import java.util.List;

/**
 * Drives the real step function for node 1 with a scripted controller and executor: time moves in
 * ticks of 100 ms on both clocks (or on one, to model a clock step), replies answer the last report
 * sent, and every action is kept for assertions.
 */
final class KeeperDriver {
  static final int ID = 1;
  final Timing t = Timing.DEFAULT;
  final KeeperConfig cfg = KeeperConfig.of(ID, t);
  final KeeperStep step = new KeeperStep(cfg);
  KeeperState state = KeeperState.initial();
  long mono = 50_000;
  long wall = 1_764_000_000_000L;
  List<Action> last = List.of();
  final List<Action> all = new ArrayList<>();
  long term = 3;
  List<PeerInfo> peers = List.of();
  String syncNames = "";

  List<Action> on(Event e) {
    KeeperStep.Result r = step.step(state, e, mono, wall);
    state = r.state();
    last = r.actions();
    all.addAll(last);
    return last;
  }

  KeeperDriver start(NodeState current, TermSeq executed) {
    on(new Event.KeeperStarted(new Persisted(current, executed, executed.term())));
    return this;
  }

  KeeperDriver facts(PgFacts f) {
    on(new Event.FactsRead(f));
    return this;
  }

  /** Ticks of at most 100 ms on both clocks; returns every action emitted meanwhile. */
  List<Action> advance(long ms) {
    List<Action> seen = new ArrayList<>();
    long end = mono + ms;
    while (mono < end) {
      long d = Math.min(100, end - mono);
      mono += d;
      wall += d;
      seen.addAll(on(new Event.Tick()));
    }
    return seen;
  }

  /** The most recent report the keeper sent (in the whole history). */
  Action.SendReport lastReport() {
    return lastOf(Action.SendReport.class);
  }

  <A extends Action> A lastOf(Class<A> type) {
    for (int i = all.size() - 1; i >= 0; i--) {
      if (type.isInstance(all.get(i))) return type.cast(all.get(i));
    }
    return null;
  }

  <A extends Action> List<A> in(List<Action> actions, Class<A> type) {
    return actions.stream().filter(type::isInstance).map(type::cast).toList();
  }

  <A extends Action> List<A> now(Class<A> type) {
    return in(last, type);
  }

  ReportReply reply(NodeState goal, TermSeq stamp, long leaseMs, long permitMs) {
    return new ReportReply("f", new Goal(ID, goal, stamp), term, 1, leaseMs > 0 ? new Lease(term, leaseMs) : null,
        permitMs, peer(2, NodeState.PRIMARY, 50), null, syncNames, peers, NodeSettings.DEFAULT,
        FormationSettings.DEFAULT);
  }

  /** Answers the last report sent, now. */
  List<Action> answer(ReportReply reply) {
    Action.SendReport r = lastReport();
    return on(new Event.ReplyReceived(reply, r.sentMono(), r.sentWall()));
  }

  List<Action> answer(NodeState goal, TermSeq stamp) {
    return answer(reply(goal, stamp, goal.canTakeWrites() ? t.leaseMs() : 0,
        goal == NodeState.STOP_REPLICATION ? t.permitMs() : 0));
  }

  List<Action> failLastReport() {
    Action.SendReport r = lastReport();
    return on(new Event.ReportFailed(r.sentMono(), r.sentWall(), "connection refused"));
  }

  Action.RunSteps lastRun() {
    return lastOf(Action.RunSteps.class);
  }

  List<Action> finishOk() {
    return on(new Event.TransitionFinished(lastRun().stamp(), new Event.Ok(null)));
  }

  List<Action> finishFailed(String why) {
    return on(new Event.TransitionFinished(lastRun().stamp(), new Event.Failed(why)));
  }

  /** Runs every segment the keeper hands over until none is pending. */
  void finishAll() {
    Transition tr = state.transition();
    while (tr != null && tr.phase() == Transition.Phase.RUNNING) {
      finishOk();
      tr = state.transition();
    }
  }

  static PeerInfo peer(int id, NodeState goal, int priority) {
    return new PeerInfo(id, "node_" + id, new NodeAddress("10.0.0." + id, 5432), "http://10.0.0." + id + ":8100",
        goal, NodeSettings.DEFAULT.withPriority(priority));
  }

  static TermSeq ts(long term, long seq) {
    return new TermSeq(term, seq);
  }
}
