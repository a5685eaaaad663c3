package io.pgwarden.sim;

/**
 * The network between hosts. Each directed link is open, blackholed (packets vanish: the sender learns
 * nothing until its own timeout) or resetting (connections are refused or reset at once). A powered-off
 * host is a blackhole; a live host whose process is gone answers with a reset. Latency is drawn per
 * message (so messages reorder), with rare retransmission spikes; HTTP requests can be duplicated and
 * replies lost after the server acted.
 */
final class Net {
  enum Link { OPEN, DROP, RESET }

  interface Server {
    /** Runs in the server's process; answer through {@code r} now or later. */
    void handle(Responder r);
  }

  interface Client {
    void ok(Object reply);

    void fail(String why);
  }

  /** The server's side of one exchange. */
  final class Responder {
    private final Proc client;
    private final Host server;
    private final Exchange x;

    Responder(Proc client, Host server, Exchange x) {
      this.client = client;
      this.server = server;
      this.x = x;
    }

    void reply(Object answer) {
      Link back = path(server, client.host);
      if (back == Link.RESET) {
        client.post(latency(server, client.host), () -> x.fail("connection reset"));
      } else if (back == Link.OPEN && !w.rng.chance(replyLoss)) {
        client.post(latency(server, client.host), () -> x.ok(answer));
      }
    }

    /** The server went away with the request open: the client sees a reset if the path lets it. */
    void reset(String why) {
      if (path(server, client.host) == Link.OPEN) client.post(latency(server, client.host), () -> x.fail(why));
    }
  }

  private final class Exchange {
    final Client c;
    boolean done;

    Exchange(Client c) {
      this.c = c;
    }

    void ok(Object a) {
      if (done) return;
      done = true;
      c.ok(a);
    }

    void fail(String why) {
      if (done) return;
      done = true;
      c.fail(why);
    }
  }

  private final World w;
  private final Link[][] links;
  private final long[] degradedUntil;
  private final long[] degradeExtraUs;
  double duplicate = 0.002;
  double replyLoss = 0.002;
  double requestLoss = 0.002;
  double spike = 0.003;

  Net(World w, int hosts) {
    this.w = w;
    links = new Link[hosts][hosts];
    for (Link[] row : links) java.util.Arrays.fill(row, Link.OPEN);
    degradedUntil = new long[hosts];
    degradeExtraUs = new long[hosts];
  }

  Link link(int from, int to) {
    return links[from][to];
  }

  void setLink(int from, int to, Link l) {
    if (from != to) links[from][to] = l;
  }

  /** Whether packets from {@code a} reach {@code b} now. */
  Link path(Host a, Host b) {
    if (a == b) return a.up ? Link.OPEN : Link.DROP;
    if (!a.up || !b.up) return Link.DROP;
    return links[a.index][b.index];
  }

  boolean open(Host a, Host b) {
    return path(a, b) == Link.OPEN && path(b, a) == Link.OPEN;
  }

  void degrade(Host h, long untilUs, long extraUs) {
    degradedUntil[h.index] = untilUs;
    degradeExtraUs[h.index] = extraUs;
  }

  private final long[] stallUntil = new long[64];
  private final long[] stallUs = new long[64];

  /** Every message from {@code h} sent before {@code untilUs} takes {@code us} more (a retransmission). */
  void stallFrom(Host h, long untilUs, long us) {
    stallUntil[h.index] = untilUs;
    stallUs[h.index] = us;
  }

  boolean anyFault() {
    for (int i = 0; i < links.length; i++) {
      if (degradedUntil[i] > w.now) return true;
      for (int j = 0; j < links.length; j++) {
        if (links[i][j] != Link.OPEN) return true;
      }
    }
    return false;
  }

  /** One-way latency for a message sent now. */
  long latency(Host a, Host b) {
    if (a == b) return w.rng.between(20, 80);
    long us = w.rng.between(150, 900);
    if (stallUntil[a.index] > w.now) us += stallUs[a.index];
    boolean degraded = degradedUntil[a.index] > w.now || degradedUntil[b.index] > w.now;
    if (degraded) us += w.rng.between(0, Math.max(degradeExtraUs[a.index], degradeExtraUs[b.index]));
    if (w.rng.chance(degraded ? 0.05 : spike)) us += w.rng.between(200_000, 1_500_000); // a retransmission
    return us;
  }

  /** A one-way message (a WAL batch, a keepalive): delivered after a latency if the path is open. */
  boolean send(Host a, Host b, Runnable onArrive) {
    if (path(a, b) != Link.OPEN) return false;
    w.after(latency(a, b), onArrive);
    return true;
  }

  /**
   * A segment of an open TCP connection: retransmitted while the path is blackholed (every second, for
   * up to two minutes), dropped at once on a reset.
   */
  void sendRetrying(Host a, Host b, Runnable onArrive) {
    sendRetrying(a, b, onArrive, w.now + 120_000_000L);
  }

  private void sendRetrying(Host a, Host b, Runnable onArrive, long untilUs) {
    Link l = path(a, b);
    if (l == Link.OPEN) {
      w.after(latency(a, b), onArrive);
    } else if (l == Link.DROP && w.now < untilUs && a.up) {
      w.after(1_000_000, () -> sendRetrying(a, b, onArrive, untilUs));
    }
  }

  /**
   * An HTTP exchange from {@code client} to {@code server}, answered through {@code c} in the client's
   * process: a reply, or a failure (reset at once, or the client's timeout).
   */
  void call(Proc client, Proc server, long timeoutUs, Server s, Client c) {
    Exchange x = new Exchange(c);
    client.post(timeoutUs, () -> x.fail("timeout after " + timeoutUs / 1000 + " ms"));
    Link fwd = path(client.host, server.host);
    if (fwd == Link.RESET) {
      client.post(2 * latency(client.host, server.host), () -> x.fail("connection refused"));
      return;
    }
    if (fwd == Link.DROP || w.rng.chance(requestLoss)) return;
    int copies = w.rng.chance(duplicate) ? 2 : 1;
    for (int i = 0; i < copies; i++) {
      long lat = latency(client.host, server.host) + (i == 0 ? 0 : w.rng.between(1_000, 400_000));
      w.after(lat, () -> arrive(client, server, x, s));
    }
  }

  private void arrive(Proc client, Proc server, Exchange x, Server s) {
    if (!server.host.up) return; // powered off: nothing answers
    Responder r = new Responder(client, server.host, x);
    if (!server.alive) {
      r.reset("connection refused");
      return;
    }
    server.now(() -> s.handle(r));
  }
}
