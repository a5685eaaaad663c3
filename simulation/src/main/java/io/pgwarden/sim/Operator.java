package io.pgwarden.sim;

import io.pgwarden.api.ApiException;
import io.pgwarden.api.Dto;
import io.pgwarden.controller.core.Input;
import io.pgwarden.controller.core.Member;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.Requester;
import java.util.function.Consumer;

/**
 * The operator, acting in the middle of the faults through the controller's API (Input.Operator):
 * switchovers, promotions, maintenance, drops (and re-adding the host), priority, quorum and
 * number_sync_standbys changes. Refused actions (409) are retried a few times, as a person would.
 */
final class Operator {
  private final World w;
  final Proc proc;
  private int keys;
  int inMaintenance;
  int droppedOut;

  Operator(World w) {
    this.w = w;
    this.proc = new Proc(w, w.appHost, "operator");
    proc.start();
  }

  private void trace(String what) {
    w.trace("operator", what);
  }

  /** Sends one action; {@code done} hears the reply (an Operation or an ApiException) or null on failure. */
  void act(String kind, String node, Long value, boolean flag, String key, Consumer<Object> done) {
    Dto.OperatorRequest req = new Dto.OperatorRequest(kind, node, flag, flag, value, "simulated operator", key);
    Input.Operator in = new Input.Operator(req, new Requester("operator", "simulated " + kind, key));
    w.net.call(proc, w.ctl.proc, 3_000_000, r -> w.ctl.onInput(in, r), new Net.Client() {
      @Override
      public void ok(Object reply) {
        trace(kind + (node == null ? "" : " " + node) + (value == null ? "" : " " + value) + " -> "
            + (reply instanceof ApiException e ? e.status() + " " + e.getMessage() : ((Dto.Operation) reply).status()));
        done.accept(reply);
      }

      @Override
      public void fail(String why) {
        trace(kind + (node == null ? "" : " " + node) + " -> no answer: " + why);
        done.accept(null);
      }
    });
  }

  /** Tries until accepted (or {@code tries} run out); the same idempotency key on every try. */
  void insist(String kind, String node, Long value, boolean flag, int tries, Consumer<Boolean> done) {
    String key = "op-" + (++keys);
    attempt(kind, node, value, flag, key, tries, done);
  }

  private void attempt(String kind, String node, Long value, boolean flag, String key, int tries,
      Consumer<Boolean> done) {
    act(kind, node, value, flag, key, reply -> {
      boolean ok = reply instanceof Dto.Operation;
      if (ok || tries <= 1) {
        done.accept(ok);
      } else {
        proc.post(w.rng.between(1_000_000, 3_000_000), () -> attempt(kind, node, value, flag, key, tries - 1, done));
      }
    });
  }

  String randomNodeName() {
    var ms = w.ctl.f == null ? java.util.List.<Member>of() : w.ctl.f.active();
    if (ms.isEmpty()) return null;
    return w.rng.pick(ms).name();
  }

  String primaryName() {
    if (w.ctl.f == null) return null;
    for (Member m : w.ctl.f.active()) {
      if (m.goalState().canTakeWrites()) return m.name();
    }
    return null;
  }

  String standbyName() {
    if (w.ctl.f == null) return null;
    var ms = w.ctl.f.active().stream().filter(m -> !m.goalState().canTakeWrites()).toList();
    return ms.isEmpty() ? null : w.rng.pick(ms).name();
  }

  /** maintenance on {@code node} for {@code ms}, the operator restarting its PostgreSQL meanwhile. */
  void maintenance(String node, long ms, boolean allowFailover) {
    insist("maintenance-on", node, null, allowFailover, 4, ok -> {
      if (!ok) return;
      inMaintenance++;
      SimNode n = byName(node);
      if (n != null && w.rng.chance(0.5)) {
        proc.post(1_000_000, () -> {
          if (isMaintenance(node)) n.pg.stopFast(e -> { });
        });
        proc.post(Math.max(1_500_000, ms * 1000 - 2_000_000), () -> {
          if (isMaintenance(node)) n.pg.start(false, e -> { });
        });
      }
      proc.post(ms * 1000, () -> endMaintenance(node, 30));
    });
  }

  private boolean isMaintenance(String node) {
    return w.ctl.f != null && w.ctl.f.memberByName(node).map(m -> m.goalState() == NodeState.MAINTENANCE)
        .orElse(false);
  }

  /** The node is in maintenance or on its way there (a primary's handover may wait for an election). */
  private boolean enteringOrInMaintenance(String node) {
    return w.ctl.f != null && w.ctl.f.memberByName(node).map(m -> m.goalState() == NodeState.MAINTENANCE
        || m.goalState() == NodeState.PREPARE_MAINTENANCE || m.goalState() == NodeState.WAIT_MAINTENANCE)
        .orElse(false);
  }

  private void endMaintenance(String node, int tries) {
    insist("maintenance-off", node, null, false, 3, ok -> {
      if (ok || !enteringOrInMaintenance(node)) {
        inMaintenance--;
      } else if (tries > 0) {
        proc.post(2_000_000, () -> endMaintenance(node, tries - 1));
      } else {
        inMaintenance--;
      }
    });
  }

  SimNode byName(String name) {
    for (SimNode n : w.nodes) {
      if (n.name.equals(name)) return n;
    }
    return null;
  }

  /** Drop {@code node}, by force if its keeper cannot confirm, then re-add its host after {@code ms}. */
  void dropAndReadd(String node, long ms) {
    SimNode n = byName(node);
    if (n == null) return;
    droppedOut++;
    w.inv.operatorDrops.add(new long[] {n.index, w.now});
    insist("drop-node", node, null, false, 3, ok -> proc.post(20_000_000, () -> {
      if (w.ctl.f.memberByName(node).isPresent()) {
        // a forced drop gives up what only that node holds, up to the moment it is forced (the controller
        // refuses a plain drop of a primary that could lose writes, and the node may have written since)
        w.inv.operatorDrops.add(new long[] {n.index, w.now});
        insist("drop-node", node, null, true, 5, ok2 -> readdLater(n, ms));
      } else {
        readdLater(n, ms);
      }
    }));
  }

  private void readdLater(SimNode n, long ms) {
    proc.post(ms * 1000, () -> {
      if (w.ctl.f.memberByName(n.name).isPresent()) {
        proc.post(5_000_000, () -> readdLater(n, 0));
        return;
      }
      // the operator stops what is left of the old node, then creates it again on the same data directory
      n.keeper.crash("stopped by the operator before re-adding");
      n.pg.stopFast(e -> { });
      n.dropped = true;
      n.nodeId = 0;
      // 'create postgres' makes a new keeper directory: no state of the dropped node's keeper carries over
      // (after a forced drop that keeper never reached dropped, and its state file says what it was)
      n.keeper.disk = io.pgwarden.keeper.Persisted.NEW;
      n.keeper.goalStamp = io.pgwarden.model.TermSeq.NONE;
      trace("re-adding " + n.name);
      w.register(n, 50, true);
      droppedOut--;
    });
  }
}
