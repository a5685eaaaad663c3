package io.pgwarden.sim;

import io.pgwarden.api.ApiException;
import io.pgwarden.api.Dto;
import io.pgwarden.controller.core.KnownBugs;
import io.pgwarden.controller.core.Member;
import io.pgwarden.model.FormationSettings;
import io.pgwarden.sim.Wal.Commit;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * One seeded run: a virtual clock, one event queue, one PRNG, and everything simulated — hosts and their
 * clocks, the network, the controller, the keepers and their PostgreSQL, the clients, the operator and
 * the faults. Nothing here reads a real clock or iterates a hash order: the same seed gives the same run.
 */
final class World {
  private static final class Ev implements Comparable<Ev> {
    final long t;
    final long seq;
    final Runnable r;

    Ev(long t, long seq, Runnable r) {
      this.t = t;
      this.seq = seq;
      this.r = r;
    }

    @Override
    public int compareTo(Ev o) {
      int c = Long.compare(t, o.t);
      return c != 0 ? c : Long.compare(seq, o.seq);
    }
  }

  final long seed;
  final Rng rng;
  final SimConfig cfg;
  final Trace trace;
  final Stats stats;
  final Invariants inv;
  final Net net;
  final Host ctlHost;
  final Host appHost;
  /** A second application host: clients in two places see partitions differently. */
  final Host appHost2;
  final List<SimNode> nodes = new ArrayList<>();
  final SimController ctl;
  final Clients clients;
  final Operator operator;
  final Faults faults;
  final List<Commit> commits = new ArrayList<>();
  long now;
  private long seq;
  private int ids = 1;
  long events;
  private boolean stop;
  private final PriorityQueue<Ev> queue = new PriorityQueue<>();

  World(long seed, Set<Bugs> bugs, boolean fullTrace, boolean keepLines) {
    this.seed = seed;
    this.rng = new Rng(seed);
    this.cfg = SimConfig.draw(seed, rng, bugs);
    this.trace = new Trace(fullTrace, keepLines);
    this.stats = new Stats();
    this.inv = new Invariants(this);
    int hosts = cfg.nodes() + 3;
    this.net = new Net(this, hosts);
    long wall0 = 1_764_000_000_000_000L + rng.between(0, 86_400_000_000L);
    this.ctlHost = new Host(0, "ctl", new Clock(0, rng.between(1, 1_000_000_000_000L), wall0 + rng.between(0, 900_000)));
    for (int i = 1; i <= cfg.nodes(); i++) {
      Host h = new Host(i, "h" + i, new Clock(0, rng.between(1, 1_000_000_000_000L), wall0 + rng.between(0, 900_000)));
      nodes.add(new SimNode(this, i, h));
    }
    this.appHost = new Host(hosts - 2, "app", new Clock(0, 0, wall0));
    this.appHost2 = new Host(hosts - 1, "app2", new Clock(0, 0, wall0));
    this.ctl = new SimController(this, ctlHost);
    this.clients = new Clients(this);
    this.operator = new Operator(this);
    this.faults = new Faults(this);
  }

  // ------------------------------------------------------------------ the event loop

  void after(long delayUs, Runnable r) {
    queue.add(new Ev(now + Math.max(0, delayUs), seq++, r));
  }

  void at(long timeUs, Runnable r) {
    queue.add(new Ev(Math.max(now, timeUs), seq++, r));
  }

  /** Runs {@code r} on {@code h} after {@code delayUs}, later if the host is frozen then; never if it is off. */
  void onHost(Host h, long delayUs, Runnable r) {
    after(delayUs, () -> {
      if (!h.up) return;
      if (h.paused) {
        onHost(h, 50_000, r);
      } else {
        r.run();
      }
    });
  }

  int nextId() {
    return ids++;
  }

  void trace(String who, String what) {
    trace.add(now, who, what);
  }

  SimNode nodeById(int id) {
    for (SimNode n : nodes) {
      if (n.nodeId == id && id != 0) return n;
    }
    return null;
  }

  SimPg pgOf(int nodeId) {
    SimNode n = nodeById(nodeId);
    return n == null ? null : n.pg;
  }

  long endUs() {
    return (SimConfig.WARMUP_MS + cfg.faultWindowMs() + cfg.settleMs() + 5_000) * 1000;
  }

  void finishEarly() {
    stop = true;
  }

  /** Runs the whole history; returns the result with the first violation, if any. */
  SimResult run() {
    Set<KnownBugs.Bug> core = EnumSet.noneOf(KnownBugs.Bug.class);
    if (cfg.bugs().contains(Bugs.REOPEN_WRITES_WITHOUT_LEASE_WAIT)) core.add(KnownBugs.Bug.REOPEN_WRITES_WITHOUT_LEASE_WAIT);
    if (cfg.bugs().contains(Bugs.PROMOTE_OUT_OF_WAIT_PRIMARY)) core.add(KnownBugs.Bug.PROMOTE_OUT_OF_WAIT_PRIMARY);
    if (cfg.bugs().contains(Bugs.TRUST_STALE_STREAMING)) core.add(KnownBugs.Bug.TRUST_STALE_STREAMING);
    KnownBugs.enableForThisThread(core);
    try {
      bootstrap();
      faults.schedule();
      long end = endUs();
      while (!queue.isEmpty() && !stop) {
        Ev e = queue.poll();
        if (e.t > end) break;
        now = e.t;
        e.r.run();
        events++;
        if (inv.failed()) break;
      }
      if (!inv.failed()) inv.finish();
      return new SimResult(seed, cfg, inv.violation(), trace, stats, events, now);
    } finally {
      KnownBugs.enableForThisThread(EnumSet.noneOf(KnownBugs.Bug.class));
    }
  }

  // ------------------------------------------------------------------ bootstrap: create, register, start

  private void bootstrap() {
    trace("sim", "seed " + seed + ": " + cfg.nodes() + " nodes, wal_receiver_timeout " + cfg.pg().walReceiverTimeoutMs()
        + " ms, wal_sender_timeout " + cfg.pg().walSenderTimeoutMs() + " ms, wal_retrieve_retry_interval "
        + cfg.pg().walRetrieveRetryMs() + " ms, wal_keep_size " + (cfg.pg().walKeep() ? "256MB" : "0")
        + (cfg.bugs().isEmpty() ? "" : ", bugs " + cfg.bugs()));
    ctl.start();
    ctl.createFormation(FormationSettings.DEFAULT);
    for (int i = 0; i < nodes.size(); i++) {
      SimNode n = nodes.get(i);
      at((500 + i * 1_500L) * 1000, () -> register(n, 50, true));
    }
    clients.start();
    inv.start();
  }

  /** `pgwarden create postgres` on {@code n}'s host: register (retrying), then run the keeper. */
  void register(SimNode n, int priority, boolean quorum) {
    Proc cli = n.keeper.proc;
    if (!n.host.up) {
      after(1_000_000, () -> register(n, priority, quorum));
      return;
    }
    Dto.RegisterNode req = new Dto.RegisterNode(n.name, n.host.name, 5432, "http://" + n.host.name + ":8100",
        priority, quorum);
    Proc tmp = new Proc(this, n.host, "cli" + n.index);
    tmp.start();
    net.call(tmp, ctl.proc, 3_000_000, r -> ctl.register(req, r), new Net.Client() {
      @Override
      public void ok(Object reply) {
        tmp.kill();
        n.host.procs.remove(tmp);
        if (reply instanceof Dto.Registration reg) {
          registered(n, reg.nodeId());
        } else if (reply instanceof ApiException e && e.getMessage().contains("already registered")) {
          // the registration went through but its answer was lost: the operator looks the id up
          Member m = ctl.f.memberByName(n.name).orElse(null);
          if (m != null) {
            registered(n, m.nodeId());
          } else {
            after(1_000_000, () -> register(n, priority, quorum));
          }
        } else {
          trace("cli" + n.index, "registration refused: " + reply);
          after(1_000_000, () -> register(n, priority, quorum));
        }
      }

      @Override
      public void fail(String why) {
        tmp.kill();
        n.host.procs.remove(tmp);
        after(1_000_000, () -> register(n, priority, quorum));
      }
    });
    if (cli == null) throw new IllegalStateException();
  }

  private void registered(SimNode n, int id) {
    n.nodeId = id;
    n.dropped = false;
    n.keeper.left = false;
    trace("cli" + n.index, n.name + " registered as node " + id);
    n.keeper.start();
  }
}
