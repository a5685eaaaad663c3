package io.pgwarden.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The faults of one seed, drawn before the run: at least five, spread over the fault window (ten
 * virtual minutes), each ending by the window's end. Kinds: host death and return, PostgreSQL crash,
 * keeper crash, pauses (keeper, postmaster, whole host, controller), controller crash with journal tail
 * loss, partitions of any shape (asymmetric too; blackhole or reset), degraded links, clock drift and
 * steps, and operator actions.
 */
final class Faults {
  enum Kind {
    HOST_DEATH, PG_CRASH, KEEPER_CRASH, PAUSE_KEEPER, PAUSE_PG, PAUSE_HOST, PAUSE_CONTROLLER, CONTROLLER_CRASH,
    CONTROLLER_HOST_DEATH, PARTITION, DEGRADE, CLOCK_DRIFT, CLOCK_STEP, OP_SWITCHOVER, OP_PROMOTION,
    OP_MAINTENANCE, OP_DROP, OP_PRIORITY, OP_QUORUM, OP_SYNC_STANDBYS, OP_DATA_LOSS
  }

  private static final int[] WEIGHTS = {
    10, 8, 8, 5, 5, 5, 4, 6,
    3, 14, 4, 4, 4, 5, 2,
    3, 2, 3, 4, 2, 1};

  record Fault(Kind kind, long startMs, long durationMs, String detail) {}

  private final World w;
  final List<Fault> planned = new ArrayList<>();
  private final List<int[]> cuts = new ArrayList<>(); // active partitions: {from, to, mode}
  long lastEndUs;
  int active;

  Faults(World w) {
    this.w = w;
  }

  void schedule() {
    int n = (int) w.rng.between(5, 14);
    long from = SimConfig.WARMUP_MS;
    long to = SimConfig.WARMUP_MS + w.cfg.faultWindowMs();
    for (int i = 0; i < n; i++) {
      Kind k = Kind.values()[w.rng.weighted(WEIGHTS)];
      long start = w.rng.between(from, to - 20_000);
      long dur = duration(k);
      if (k == Kind.OP_DROP) start = Math.min(start, to - 120_000);
      if (k == Kind.OP_MAINTENANCE) start = Math.min(start, to - 90_000);
      dur = Math.min(dur, to - start);
      planned.add(new Fault(k, start, dur, ""));
    }
    planned.sort((a, b) -> Long.compare(a.startMs(), b.startMs()));
    lastEndUs = to * 1000;
    for (Fault f : planned) w.at(f.startMs() * 1000, () -> begin(f));
    w.at(to * 1000, this::allClear);
  }

  private long duration(Kind k) {
    return switch (k) {
      case HOST_DEATH, CONTROLLER_HOST_DEATH -> w.rng.between(3_000, 60_000);
      case PAUSE_KEEPER, PAUSE_PG, PAUSE_HOST, PAUSE_CONTROLLER -> w.rng.chance(0.6) ? w.rng.between(300, 4_000)
          : w.rng.between(4_000, 25_000);
      case PARTITION -> w.rng.chance(0.5) ? w.rng.between(1_000, 8_000) : w.rng.between(8_000, 60_000);
      case DEGRADE, CLOCK_DRIFT -> w.rng.between(5_000, 120_000);
      case OP_MAINTENANCE -> w.rng.between(5_000, 40_000);
      case OP_DROP -> w.rng.between(5_000, 30_000);
      case KEEPER_CRASH, CONTROLLER_CRASH -> w.rng.between(500, 12_000);
      default -> 0;
    };
  }

  private void trace(String what) {
    w.trace("fault", what);
  }

  private SimNode anyNode() {
    return w.nodes.get(w.rng.nextInt(w.nodes.size()));
  }

  /** The node whose PostgreSQL is the primary now, if any (faults like to hit it). */
  private SimNode primaryOrAny() {
    if (w.rng.chance(0.6)) {
      for (SimNode n : w.nodes) {
        if (n.pg.writable()) return n;
      }
    }
    return anyNode();
  }

  private void begin(Fault f) {
    long d = f.durationMs();
    active++;
    w.inv.faultStarts++;
    w.at(w.now + d * 1000, () -> active--);
    switch (f.kind()) {
      case HOST_DEATH -> hostDeath(primaryOrAny(), d);
      case CONTROLLER_HOST_DEATH -> controllerHostDeath(d);
      case PG_CRASH -> {
        SimNode n = primaryOrAny();
        trace("kill -9 the postmaster of " + n);
        n.pg.crash("killed (kill -9 of the postmaster)");
      }
      case KEEPER_CRASH -> {
        SimNode n = primaryOrAny();
        trace("keeper of " + n + " crashes for " + d + " ms");
        n.keeper.crash("killed");
        w.at(w.now + d * 1000, () -> restartKeeper(n));
      }
      case PAUSE_KEEPER -> {
        SimNode n = primaryOrAny();
        trace("SIGSTOP the keeper of " + n + " for " + d + " ms");
        pause(n.keeper.proc, d);
      }
      case PAUSE_PG -> {
        SimNode n = primaryOrAny();
        trace("SIGSTOP the postmaster of " + n + " for " + d + " ms");
        n.pg.pause();
        w.at(w.now + d * 1000, n.pg::resume);
      }
      case PAUSE_HOST -> {
        SimNode n = primaryOrAny();
        pauseHost(n.host, d);
      }
      case PAUSE_CONTROLLER -> {
        if (w.rng.chance(0.5)) {
          trace("SIGSTOP the controller for " + d + " ms");
          pause(w.ctl.proc, d);
        } else {
          pauseHost(w.ctlHost, d);
        }
      }
      case CONTROLLER_CRASH -> {
        int tail = w.rng.chance(0.4) ? (int) w.rng.between(1, 3) : 0;
        trace("controller crashes for " + d + " ms" + (tail > 0 ? ", journal tail loss " + tail : ""));
        w.ctl.crash("killed", tail);
        w.at(w.now + d * 1000, () -> {
          if (w.ctlHost.up && !w.ctl.proc.alive) w.ctl.start();
        });
      }
      case PARTITION -> partition(d);
      case DEGRADE -> {
        Host h = w.rng.chance(0.2) ? w.ctlHost : anyNode().host;
        long extra = w.rng.between(5_000, 400_000);
        trace("degraded links at " + h + " (+" + extra / 1000 + " ms) for " + d + " ms");
        w.net.degrade(h, w.now + d * 1000, extra);
      }
      case CLOCK_DRIFT -> {
        Host h = w.rng.chance(0.3) ? w.ctlHost : anyNode().host;
        long ppm = w.rng.between(-24_000, 24_000);
        trace("clock of " + h + " drifts " + ppm + " ppm for " + d + " ms");
        h.clock.setRate(w.now, ppm);
        w.at(w.now + d * 1000, () -> h.clock.setRate(w.now, 0));
      }
      case CLOCK_STEP -> {
        Host h = w.rng.chance(0.3) ? w.ctlHost : anyNode().host;
        long step = (w.rng.chance(0.5) ? 1 : -1) * w.rng.between(500, 7_200_000) * 1000;
        trace("wall clock of " + h + " steps by " + step / 1000 + " ms");
        h.clock.stepWall(w.now, step);
      }
      case OP_SWITCHOVER -> {
        if (w.rng.chance(0.35)) {
          // the switchover of a primary that has just lost the controller (it still holds its lease)
          SimNode p = primaryOrAny();
          cutFor(p.host, w.ctlHost, w.rng.between(3_000, 8_000), "the primary loses the controller");
          w.at(w.now + w.rng.between(50, 1_500) * 1000, () -> w.operator.insist("switchover", null, null, false, 3,
              ok -> { }));
        } else {
          w.operator.insist("switchover", null, null, false, 3, ok -> { });
        }
      }
      case OP_PROMOTION -> {
        String s = w.operator.standbyName();
        if (s != null) w.operator.insist("promotion", s, null, false, 3, ok -> { });
      }
      case OP_MAINTENANCE -> {
        boolean primary = w.rng.chance(0.3);
        String s = primary ? w.operator.primaryName() : w.operator.standbyName();
        if (s != null) w.operator.maintenance(s, d, primary);
      }
      case OP_DROP -> {
        String s = w.rng.chance(0.25) ? w.operator.primaryName() : w.operator.standbyName();
        if (s != null) w.operator.dropAndReadd(s, d);
      }
      case OP_PRIORITY -> {
        String s = w.operator.randomNodeName();
        long v = w.rng.chance(0.3) ? 0 : w.rng.between(1, 100);
        if (s != null) w.operator.insist("set-candidate-priority", s, v, false, 3, ok -> { });
        if (s != null && v == 0) {
          w.at(w.now + w.rng.between(10_000, 60_000) * 1000, () -> w.operator.insist("set-candidate-priority", s, 50L,
              false, 5, ok -> { }));
        }
      }
      case OP_QUORUM -> {
        String s = w.rng.chance(0.5) ? w.operator.standbyName() : w.operator.randomNodeName();
        if (s != null) {
          w.operator.insist("set-replication-quorum", s, 0L, false, 3, ok -> { });
          long off = w.rng.between(30_000, 180_000);
          w.at(Math.min(w.now + off * 1000, (SimConfig.WARMUP_MS + w.cfg.faultWindowMs() - 15_000) * 1000),
              () -> w.operator.insist("set-replication-quorum", s, 1L, false, 5, ok -> { }));
          SimNode n = w.operator.byName(s);
          if (n != null && w.rng.chance(0.4)) {
            // meanwhile the primary and that standby end up on the minority side of a partition
            w.at(w.now + w.rng.between(3_000, 10_000) * 1000, () -> minorityWith(n, w.rng.between(10_000, 40_000)));
          }
        }
      }
      case OP_SYNC_STANDBYS -> w.operator.insist("set-number-sync-standbys", null, w.rng.between(0, 2), false, 3,
          ok -> { });
      case OP_DATA_LOSS -> {
        w.operator.insist("set-failover-data-loss-allowed", null, w.rng.between(1_000, 1_000_000), false, 3,
            ok -> { });
        w.at(w.now + w.rng.between(10_000, 60_000) * 1000, () -> w.operator.insist("set-failover-data-loss-allowed",
            null, 0L, false, 5, ok -> { }));
      }
      default -> throw new IllegalStateException("fault " + f.kind());
    }
  }

  private void pause(Proc p, long ms) {
    p.paused = true;
    w.at(w.now + ms * 1000, () -> {
      p.paused = false;
      p.resumed();
    });
  }

  private void pauseHost(Host h, long ms) {
    boolean suspend = w.rng.chance(0.3);
    trace((suspend ? "suspend" : "freeze") + " host " + h + " for " + ms + " ms");
    h.paused = true;
    if (suspend) h.clock.freezeMono(w.now);
    w.at(w.now + ms * 1000, () -> {
      if (suspend) h.clock.thawMono(w.now);
      h.paused = false;
      for (Proc p : new ArrayList<>(h.procs)) p.resumed();
    });
  }

  private void hostDeath(SimNode n, long ms) {
    if (!n.host.up) return;
    trace("host " + n.host + " (" + n + ") loses power for " + ms + " ms");
    w.inv.primaryHostDied(n);
    n.host.up = false;
    n.keeper.crash("host lost power");
    n.pg.crash("host lost power");
    w.at(w.now + ms * 1000, () -> {
      n.host.up = true;
      n.host.paused = false;
      // a reboot: the monotonic clock starts again from boot
      n.host.clock.thawMono(w.now);
      trace("host " + n.host + " boots");
      w.at(w.now + w.rng.between(1_000, 4_000) * 1000, () -> restartKeeper(n));
    });
  }

  private void controllerHostDeath(long ms) {
    if (!w.ctlHost.up) return;
    int tail = w.rng.chance(0.3) ? (int) w.rng.between(1, 2) : 0;
    trace("controller host loses power for " + ms + " ms" + (tail > 0 ? ", journal tail loss " + tail : ""));
    w.ctlHost.up = false;
    w.ctl.crash("host lost power", tail);
    w.at(w.now + ms * 1000, () -> {
      w.ctlHost.up = true;
      w.ctlHost.paused = false;
      w.ctlHost.clock.thawMono(w.now);
      w.at(w.now + w.rng.between(1_000, 4_000) * 1000, () -> {
        if (!w.ctl.proc.alive) w.ctl.start();
      });
    });
  }

  private void restartKeeper(SimNode n) {
    if (!n.host.up || n.keeper.proc.alive || n.keeper.left || n.nodeId == 0) return;
    n.keeper.start();
  }

  // ------------------------------------------------------------------ partitions

  private void partition(long ms) {
    int hosts = w.nodes.size() + 1; // the controller and the database hosts
    int mode = w.rng.chance(0.7) ? 1 : 2; // 1 = blackhole, 2 = reset
    List<int[]> mine = new ArrayList<>();
    int shape = w.rng.weighted(4, 3, 3, 2, 1, 3);
    String what;
    switch (shape) {
      case 0 -> { // isolate one host (controller or node) from everyone
        int h = w.rng.nextInt(hosts);
        for (int o = 0; o <= w.nodes.size() + 2; o++) {
          if (o != h) {
            mine.add(new int[] {h, o, mode});
            mine.add(new int[] {o, h, mode});
          }
        }
        what = "isolate " + hostName(h);
      }
      case 1 -> { // one direction only
        int a = w.rng.nextInt(hosts);
        int b = w.rng.nextInt(hosts);
        if (a == b) b = (b + 1) % hosts;
        mine.add(new int[] {a, b, mode});
        what = "one-way " + hostName(a) + " -> " + hostName(b);
      }
      case 2 -> { // cut one link both ways
        int a = w.rng.nextInt(hosts);
        int b = w.rng.nextInt(hosts);
        if (a == b) b = (b + 1) % hosts;
        mine.add(new int[] {a, b, mode});
        mine.add(new int[] {b, a, mode});
        what = "cut " + hostName(a) + " <-> " + hostName(b);
      }
      case 3 -> { // split the hosts into two sides
        boolean[] side = new boolean[hosts];
        for (int i = 0; i < hosts; i++) side[i] = w.rng.chance(0.5);
        StringBuilder sb = new StringBuilder("split {");
        for (int i = 0; i < hosts; i++) {
          if (side[i]) sb.append(hostName(i)).append(' ');
        }
        sb.append("}");
        for (int i = 0; i < hosts; i++) {
          for (int j = 0; j < hosts; j++) {
            if (side[i] != side[j]) mine.add(new int[] {i, j, mode});
          }
        }
        what = sb.toString();
      }
      case 4 -> { // one application host loses one database host
        int h = 1 + w.rng.nextInt(w.nodes.size());
        int app = w.rng.chance(0.5) ? w.appHost.index : w.appHost2.index;
        mine.add(new int[] {app, h, mode});
        mine.add(new int[] {h, app, mode});
        what = "cut " + hostName(app) + " <-> " + hostName(h);
      }
      default -> { // the primary with a minority (one standby, one application host) away from the rest
        SimNode p = primaryOrAny();
        List<Integer> side = new ArrayList<>(List.of(p.host.index, w.appHost.index));
        if (w.nodes.size() > 2) {
          SimNode other = anyNode();
          if (other != p) side.add(other.host.index);
        }
        int all = w.nodes.size() + 3;
        for (int i = 0; i < all; i++) {
          for (int j = 0; j < all; j++) {
            if (side.contains(i) != side.contains(j)) mine.add(new int[] {i, j, mode});
          }
        }
        StringBuilder sb = new StringBuilder("minority {");
        for (int i : side) sb.append(hostName(i)).append(' ');
        what = sb.append('}').toString();
      }
    }
    trace("partition (" + (mode == 1 ? "blackhole" : "reset") + ") " + what + " for " + ms + " ms");
    cuts.addAll(mine);
    applyLinks();
    if (mode == 2) {
      for (int[] c : mine) resetAcross(c[0], c[1]);
    }
    w.at(w.now + ms * 1000, () -> {
      cuts.removeAll(mine);
      applyLinks();
      trace("partition healed: " + what);
    });
  }

  boolean inWindow() {
    return w.now >= SimConfig.WARMUP_MS * 1000 && w.now < lastEndUs;
  }

  /** A blackhole between two hosts, both ways, for {@code ms}. */
  private void cutFor(Host a, Host b, long ms, String why) {
    List<int[]> mine = List.of(new int[] {a.index, b.index, 1}, new int[] {b.index, a.index, 1});
    trace("partition (blackhole) " + a + " <-> " + b + " for " + ms + " ms: " + why);
    cuts.addAll(mine);
    applyLinks();
    w.at(w.now + ms * 1000, () -> {
      cuts.removeAll(mine);
      applyLinks();
      trace("partition healed: " + a + " <-> " + b);
    });
  }

  /** The primary, {@code n} and the first application host cut from everything else. */
  private void minorityWith(SimNode n, long ms) {
    if (w.now >= lastEndUs - ms * 1000) return;
    SimNode p = null;
    for (SimNode x : w.nodes) {
      if (x.pg.writable()) p = x;
    }
    if (p == null || p == n) return;
    List<Integer> side = List.of(p.host.index, n.host.index, w.appHost.index);
    List<int[]> mine = new ArrayList<>();
    int all = w.nodes.size() + 3;
    for (int i = 0; i < all; i++) {
      for (int j = 0; j < all; j++) {
        if (side.contains(i) != side.contains(j)) mine.add(new int[] {i, j, 1});
      }
    }
    trace("partition (blackhole) minority {" + p.host + " " + n.host + " app} for " + ms + " ms");
    cuts.addAll(mine);
    applyLinks();
    w.at(w.now + ms * 1000, () -> {
      cuts.removeAll(mine);
      applyLinks();
      trace("partition healed: minority");
    });
  }

  /**
   * Faults that follow the decisions (a nemesis): a controller that stalls right after choosing a
   * candidate, so that the candidate's permit confirmation is answered late.
   */
  void onDecided(io.pgwarden.model.FormationEvent.Decided d) {
    if (w.now >= lastEndUs || w.now < SimConfig.WARMUP_MS * 1000) return;
    boolean candidateChosen = d.rule().startsWith("E3-") || d.rule().equals("F1-failover-two-nodes")
        || d.rule().equals("operator-promotion");
    boolean permitGranted = d.goals().stream().anyMatch(g -> g.state() == io.pgwarden.model.NodeState.STOP_REPLICATION);
    if (permitGranted && w.rng.chance(0.3)) {
      // the controller's answers stall (its socket writes retransmit, or the process stalls before they
      // leave): the candidate's permit confirmations are answered about a permit's validity late
      long extra = w.rng.between(1_495, 1_590) * 1000;
      long from = w.rng.between(15, 80) * 1000;
      w.at(w.now + from, () -> {
        trace("answers from the controller are late by " + extra / 1000 + " ms for 2 s (after " + d.rule() + ")");
        w.net.stallFrom(w.ctlHost, w.now + 2_000_000, extra);
      });
    }
    if (candidateChosen && w.rng.chance(0.15)) {
      long delay = w.rng.between(0, 60) * 1000;
      long ms = w.rng.between(1_500, 3_000);
      w.at(w.now + delay, () -> {
        if (!w.ctl.proc.alive || w.ctl.proc.paused) return;
        trace("the controller stalls for " + ms + " ms (after " + d.rule() + ")");
        pause(w.ctl.proc, ms);
      });
    }
  }

  private String hostName(int i) {
    return i == 0 ? "ctl" : i == w.appHost.index ? "app" : i == w.appHost2.index ? "app2" : "h" + i;
  }

  private void applyLinks() {
    int hosts = w.nodes.size() + 3;
    for (int i = 0; i < hosts; i++) {
      for (int j = 0; j < hosts; j++) w.net.setLink(i, j, Net.Link.OPEN);
    }
    for (int[] c : cuts) {
      Net.Link cur = w.net.link(c[0], c[1]);
      Net.Link l = c[2] == 1 ? Net.Link.DROP : Net.Link.RESET;
      if (cur == Net.Link.OPEN || l == Net.Link.DROP) w.net.setLink(c[0], c[1], l);
    }
  }

  private void resetAcross(int a, int b) {
    Host ha = hostOf(a);
    Host hb = hostOf(b);
    for (SimNode n : w.nodes) {
      if (n.host == ha) n.pg.resetConnectionsWith(hb);
      if (n.host == hb) n.pg.resetConnectionsWith(ha);
    }
  }

  private Host hostOf(int i) {
    if (i == 0) return w.ctlHost;
    if (i == w.appHost.index) return w.appHost;
    if (i == w.appHost2.index) return w.appHost2;
    return w.nodes.get(i - 1).host;
  }

  /** The end of the fault window: whatever is still broken is mended (hosts up, links open, clocks sane). */
  private void allClear() {
    trace(String.format(Locale.ROOT, "fault window over: %d fault(s) planned", planned.size()));
    cuts.clear();
    applyLinks();
    for (SimNode n : w.nodes) {
      if (n.pg.proc.paused) n.pg.resume();
      if (n.keeper.proc.paused) {
        n.keeper.proc.paused = false;
        n.keeper.proc.resumed();
      }
    }
    if (w.ctl.proc.paused) {
      w.ctl.proc.paused = false;
      w.ctl.proc.resumed();
    }
    w.inv.faultsStopped();
  }
}
