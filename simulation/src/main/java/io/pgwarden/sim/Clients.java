package io.pgwarden.sim;

import io.pgwarden.controller.core.Member;
import io.pgwarden.sim.Wal.Commit;
import java.util.ArrayList;
import java.util.List;

/**
 * Applications writing through the published multi-host URI with target_session_attrs=read-write and
 * connect_timeout=2: each client keeps one connection, commits one row at a time with a
 * synchronous_commit level drawn per transaction, and records every acknowledgement it receives. Some
 * clients cancel a commit that waits too long (a driver query timeout): PostgreSQL then acknowledges it
 * with a warning.
 */
final class Clients {
  static final String[] LEVELS = {"on", "remote_apply", "remote_write", "local", "off"};

  private final World w;
  final List<Client> all = new ArrayList<>();
  long acks;
  long attempts;

  Clients(World w) {
    this.w = w;
  }

  void start() {
    for (int i = 0; i < w.cfg.clients(); i++) {
      Client c = new Client(i, w.rng.chance(0.5) ? w.rng.between(2_000, 8_000) : 0);
      all.add(c);
      c.proc.start();
      c.proc.post(w.rng.between(5_000_000, 8_000_000), c::next);
    }
  }

  final class Client {
    final int id;
    final Proc proc;
    final long cancelAfterMs;
    SimNode conn;
    long connInc;

    final Host host;

    Client(int id, long cancelAfterMs) {
      this.id = id;
      this.host = id % 2 == 0 ? w.appHost : w.appHost2;
      this.proc = new Proc(w, host, "client" + id);
      this.cancelAfterMs = cancelAfterMs;
    }

    private void next() {
      proc.post(w.rng.between(200_000, 2_000_000), this::transaction);
    }

    private void transaction() {
      if (conn == null || conn.pg.proc.incarnation != connInc) {
        conn = null;
        connect(hosts(), 0);
        return;
      }
      attempts++;
      String level = LEVELS[w.rng.weighted(45, 15, 10, 18, 12)];
      SimNode n = conn;
      long inc = connInc;
      Commit[] started = new Commit[1];
      boolean[] answered = new boolean[1];
      if (w.net.path(host, n.host) != Net.Link.OPEN || n.pg.proc.incarnation != inc) {
        drop("could not send");
        return;
      }
      w.after(w.net.latency(host, n.host), () -> n.pg.proc.now(() -> {
        if (n.pg.proc.incarnation != inc) {
          reply(n, answered, started, "server closed the connection");
          return;
        }
        n.pg.commit(level, id, err -> reply(n, answered, started, err), c -> started[0] = c);
      }));
      if (cancelAfterMs > 0) {
        proc.post(cancelAfterMs * 1000, () -> {
          if (answered[0] || started[0] == null) return;
          Commit c = started[0];
          if (w.net.path(host, n.host) == Net.Link.OPEN) {
            w.after(w.net.latency(host, n.host), () -> n.pg.proc.now(() -> n.pg.cancelWait(c)));
          }
        });
      }
      // the socket gives up after 30 s without an answer: outcome unknown
      proc.post(30_000_000, () -> {
        if (answered[0]) return;
        answered[0] = true;
        drop("socket timeout");
      });
    }

    private void reply(SimNode n, boolean[] answered, Commit[] started, String err) {
      Commit c = started[0];
      if (w.net.path(n.host, host) != Net.Link.OPEN) return; // the answer is lost; the socket times out
      w.after(w.net.latency(n.host, host), () -> proc.now(() -> {
        if (answered[0]) return;
        answered[0] = true;
        if (err == null) {
          if (c != null) {
            c.clientSaw = true;
            acks++;
            w.inv.clientSaw(c);
          }
          next();
        } else {
          drop(err);
        }
      }));
    }

    private void drop(String why) {
      conn = null;
      next();
    }

    /** The hosts of the published URI, in node id order. */
    private List<SimNode> hosts() {
      List<SimNode> out = new ArrayList<>();
      if (w.ctl.f == null) return out;
      for (Member m : w.ctl.f.members().values()) {
        SimNode n = w.nodeById(m.nodeId());
        if (n != null) out.add(n);
      }
      return out;
    }

    /** libpq: each host in turn; refused costs nothing, a hang costs connect_timeout (2 s). */
    private void connect(List<SimNode> hosts, int i) {
      if (i >= hosts.size()) {
        proc.post(500_000, this::transaction);
        return;
      }
      SimNode n = hosts.get(i);
      Net.Link l = w.net.path(host, n.host);
      boolean back = w.net.path(n.host, host) == Net.Link.OPEN;
      long rtt = 2 * w.net.latency(host, n.host);
      if (l == Net.Link.OPEN && back && n.pg.answering()) {
        boolean rw = !n.pg.inRecovery && !n.pg.readOnlyDefault;
        long inc = n.pg.proc.incarnation;
        proc.post(rtt * 3, () -> {
          if (rw && n.pg.answering() && n.pg.proc.incarnation == inc && !n.pg.inRecovery) {
            conn = n;
            connInc = inc;
            transaction();
          } else {
            connect(hosts, i + 1);
          }
        });
      } else if (l == Net.Link.RESET || l == Net.Link.OPEN && back && n.host.up && !n.pg.up()) {
        proc.post(rtt, () -> connect(hosts, i + 1));
      } else {
        proc.post(2_000_000, () -> connect(hosts, i + 1));
      }
    }
  }
}
