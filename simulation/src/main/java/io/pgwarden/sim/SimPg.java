package io.pgwarden.sim;

import io.pgwarden.controller.core.SyncConfig;
import io.pgwarden.keeper.PgFacts;
import io.pgwarden.model.Lsn;
import io.pgwarden.model.PgStatus;
import io.pgwarden.model.WalReceiverInfo;
import io.pgwarden.model.WalSenderInfo;
import io.pgwarden.sim.Wal.Commit;
import io.pgwarden.sim.Wal.Timeline;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * One node's PostgreSQL 15, as far as failover cares (see docs/simulation.md for what is left out):
 * its data directory (system identifier, WAL lineage, standby.signal, upstream, synchronous_standby_names,
 * default_transaction_read_only, slots, clean or crashed shutdown, pg_control's checkpoint timeline),
 * the postmaster (starting, running, stopping, paused), streaming replication with a walreceiver that
 * times out after wal_receiver_timeout and retries every wal_retrieve_retry_interval, walsenders that time
 * out after wal_sender_timeout, synchronous replication with ANY n (...) and per-transaction
 * synchronous_commit, promotion onto a new timeline, crash recovery and the loss of unflushed WAL.
 */
final class SimPg {
  enum Status { STOPPED, STARTING, RUNNING, STOPPING }

  /** PostgreSQL settings drawn per seed. */
  record Settings(long walReceiverTimeoutMs, long walSenderTimeoutMs, long walRetrieveRetryMs, boolean walKeep) {
    long keepaliveMs() {
      return Math.max(100, Math.min(walReceiverTimeoutMs, walSenderTimeoutMs) / 2);
    }
  }

  final World w;
  final SimNode node;
  final Proc proc;
  Status status = Status.STOPPED;

  // ---- the data directory (survives restarts)
  boolean initialized;
  long sysid;
  Timeline tl;
  long flushed;
  long written;
  boolean standbySignal;
  Integer upstreamCfg;
  boolean ffMode;
  String syncNames = "";
  boolean readOnlyDefault;
  final TreeSet<Integer> slots = new TreeSet<>();
  boolean cleanShutdown = true;
  int checkpointTli;
  boolean brokenByRewind;
  /** The executor's note in the data directory: how the last rejoin went (kept for a retried transition). */
  io.pgwarden.model.RejoinInfo rejoinNote;

  // ---- the running server
  boolean inRecovery;
  long replayed;
  boolean promoteRequested;
  Receiver rx;
  long retryAtUs;
  final TreeMap<Integer, Sender> senders = new TreeMap<>();
  final List<Waiter> waiters = new ArrayList<>();
  private Consumer<String> starting; // pg_ctl start -w waiting for the server to come up

  /** The walreceiver: connecting (a process, no pg_stat_wal_receiver row) or streaming. */
  static final class Receiver {
    final long conn;
    final int upstream;
    boolean streaming;
    long lastMsgWallUs;
    long lastMsgTrueUs;

    Receiver(long conn, int upstream) {
      this.conn = conn;
      this.upstream = upstream;
    }
  }

  /** A walsender serving standby {@code standby}. */
  static final class Sender {
    final long conn;
    final SimPg standby;
    final int appId;
    long sentUpTo;
    long write;
    long flush;
    long apply;
    boolean caughtUp;
    long lastReplyWallUs;
    long lastReplyTrueUs;

    Sender(long conn, SimPg standby, int appId) {
      this.conn = conn;
      this.standby = standby;
      this.appId = appId;
    }
  }

  /** A backend waiting for synchronous replication of its commit. */
  static final class Waiter {
    final Commit c;
    final Consumer<String> done; // null: acknowledged; else why the connection closed

    Waiter(Commit c, Consumer<String> done) {
      this.c = c;
      this.done = done;
    }
  }

  SimPg(World w, SimNode node) {
    this.w = w;
    this.node = node;
    this.proc = new Proc(w, node.host, "pg" + node.index);
  }

  Settings settings() {
    return w.cfg.pg();
  }

  int id() {
    return node.nodeId;
  }

  boolean up() {
    return status == Status.RUNNING && proc.alive;
  }

  /** Answers queries now: running and not frozen. */
  boolean answering() {
    return up() && proc.running();
  }

  boolean writable() {
    return up() && !inRecovery;
  }

  int timeline() {
    if (tl == null) return 0;
    return Wal.tliAt(tl, flushed);
  }

  private void trace(String what) {
    w.trace("pg" + node.index, what);
  }

  // ------------------------------------------------------------------ the postmaster

  void initdb(long newSysid) {
    initialized = true;
    sysid = newSysid;
    tl = new Timeline(w.nextId(), 1, null, 0, sysid);
    flushed = written = 0x3000000L + w.rng.between(0, 0x100000);
    replayed = 0;
    checkpointTli = 1;
    cleanShutdown = true;
    standbySignal = false;
    upstreamCfg = null;
    syncNames = "";
    slots.clear();
    trace("initdb sysid " + Long.toHexString(sysid));
  }

  /** pg_ctl start; {@code done} hears null once it accepts connections, else why it did not start. */
  void start(boolean forceReadOnly, Consumer<String> done) {
    if (!initialized) {
      done.accept("no data directory");
      return;
    }
    if (status == Status.STARTING) {
      Consumer<String> before = starting;
      starting = before == null ? done : e -> {
        before.accept(e);
        done.accept(e);
      };
      return;
    }
    if (status != Status.STOPPED) {
      if (forceReadOnly) readOnlyDefault = true;
      done.accept(null);
      return;
    }
    if (forceReadOnly) readOnlyDefault = true;
    status = Status.STARTING;
    proc.start();
    starting = done;
    long ms = w.rng.between(100, 300) + (cleanShutdown ? 0 : w.rng.between(80, 600));
    trace("starting" + (cleanShutdown ? "" : " (crash recovery)") + (standbySignal ? " as standby" : " as primary"));
    proc.post(ms * 1000, () -> {
      if (status != Status.STARTING) return;
      Consumer<String> waiting = starting;
      starting = null;
      if (brokenByRewind) {
        status = Status.STOPPED;
        proc.kill();
        trace("FATAL: requested timeline does not contain minimum recovery point");
        if (waiting != null) waiting.accept("startup failed: requested timeline does not contain minimum recovery point");
        return;
      }
      status = Status.RUNNING;
      inRecovery = standbySignal;
      replayed = flushed;
      written = flushed;
      cleanShutdown = false;
      promoteRequested = false;
      trace("ready to accept connections " + (inRecovery ? "(standby of " + upstreamCfg + ")" : "(primary)")
          + " tl " + tl + " at " + Long.toHexString(flushed));
      if (waiting != null) waiting.accept(null);
      if (inRecovery) scheduleConnect(0);
    });
  }

  /** pg_ctl stop -m fast: ends waiting backends, sends all WAL, writes a shutdown checkpoint. */
  void stopFast(Consumer<String> done) {
    if (status == Status.STOPPED) {
      done.accept(null);
      return;
    }
    if (status == Status.STARTING) {
      status = Status.STOPPED;
      proc.kill();
      cleanShutdown = true;
      startFailed("the server was stopped while starting");
      done.accept(null);
      return;
    }
    // the request reaches the postmaster only when it runs
    long inc = proc.incarnation;
    proc.now(() -> {
      if (proc.incarnation != inc || status != Status.RUNNING) {
        done.accept(null);
        return;
      }
      status = Status.STOPPING;
      endWaiters("terminating connection due to administrator command");
      if (!inRecovery) {
        flushed = written;
        markFlushed();
        flushed += 104; // shutdown checkpoint record
        written = flushed;
      }
      checkpointTli = timeline();
      pushAll();
      proc.post(w.rng.between(40, 160) * 1000, () -> {
        cleanShutdown = true;
        goDown("stopped (fast)");
        done.accept(null);
      });
    });
  }

  /** kill -9 of the postmaster, an immediate stop, or the host losing power: unflushed WAL is lost. */
  void crash(String why) {
    if (status == Status.STOPPED) return;
    if (!inRecovery && tl != null) loseUnflushed();
    cleanShutdown = false;
    endWaiters("server closed the connection unexpectedly");
    goDown(why);
  }

  private void startFailed(String why) {
    Consumer<String> s = starting;
    starting = null;
    if (s != null) s.accept(why);
  }

  private void goDown(String why) {
    startFailed("postmaster exited during startup: " + why);
    status = Status.STOPPED;
    inRecovery = false;
    promoteRequested = false;
    Receiver r = rx;
    rx = null;
    if (r != null) {
      SimPg up = w.pgOf(r.upstream);
      if (up != null) up.senderClosed(r.conn, node.host);
    }
    List<Sender> ss = new ArrayList<>(senders.values());
    senders.clear();
    for (Sender s : ss) s.standby.upstreamClosed(s.conn, node.host);
    proc.kill();
    trace(why);
  }

  private void loseUnflushed() {
    List<Commit> cs = tl.commits;
    while (!cs.isEmpty() && cs.get(cs.size() - 1).lsnEnd > flushed) {
      Commit c = cs.remove(cs.size() - 1);
      c.lostInCrash = true;
      trace("lost unflushed " + c);
    }
    written = flushed;
  }

  private void markFlushed() {
    List<Commit> cs = tl.commits;
    for (int i = cs.size() - 1; i >= 0 && !cs.get(i).flushed; i--) {
      if (cs.get(i).lsnEnd <= flushed) cs.get(i).flushed = true;
    }
  }

  /** SIGSTOP of the postmaster and its children. */
  void pause() {
    proc.paused = true;
  }

  void resume() {
    proc.paused = false;
    proc.resumed();
  }

  /** pg_ctl promote (re-sent every ~100 ms by the executor, which bounds the promote stall). */
  void requestPromote() {
    if (!up() || !inRecovery || promoteRequested) return;
    promoteRequested = true;
    long ms = w.rng.chance(0.2) ? w.rng.between(60, 132) : w.rng.between(20, 45);
    proc.post(ms * 1000, () -> {
      if (!up() || !inRecovery) return;
      Receiver r = rx;
      rx = null;
      if (r != null) {
        SimPg up = w.pgOf(r.upstream);
        if (up != null) up.senderClosed(r.conn, node.host);
      }
      replayed = flushed;
      Timeline nt = new Timeline(w.nextId(), tl.maxTli() + 1, tl, flushed, sysid);
      tl = nt;
      flushed += 120; // end-of-recovery record
      written = flushed;
      inRecovery = false;
      standbySignal = false;
      promoteRequested = false;
      trace("promoted onto timeline " + nt + " (fork at " + Long.toHexString(nt.forkLsn) + ")");
      w.inv.timelineCreated(this, nt);
      pushAll();
    });
  }

  void checkpoint() {
    if (!up()) return;
    checkpointTli = timeline();
    if (!inRecovery) {
      flushed = written;
      markFlushed();
      flushed += 104;
      written = flushed;
      pushAll();
    }
  }

  /** Reload after synchronous_standby_names changed: waiters are re-judged, all released when empty. */
  void setSyncNames(String names) {
    syncNames = names == null ? "" : names;
    if (up()) releaseWaiters();
  }

  void cancelSyncWaiters() {
    endWaiters("terminating connection due to administrator command (sync-rep wait)");
  }

  private void endWaiters(String why) {
    List<Waiter> ws = new ArrayList<>(waiters);
    waiters.clear();
    for (Waiter x : ws) x.done.accept(why);
  }

  // ------------------------------------------------------------------ standby configuration

  /** standby.signal and primary_conninfo (reloaded; the walreceiver restarts toward the new upstream). */
  void writeStandbySetup(Integer upstream, boolean fastForward) {
    standbySignal = true;
    upstreamCfg = upstream;
    ffMode = fastForward;
    if (!up()) return;
    if (!inRecovery) {
      // a running primary cannot become a standby by reload: it is restarted
      trace("standby setup on a running primary: restart");
      return;
    }
    Receiver r = rx;
    if (r != null && (upstream == null || r.upstream != upstream)) {
      rx = null;
      SimPg up = w.pgOf(r.upstream);
      if (up != null) up.senderClosed(r.conn, node.host);
    }
    if (rx == null && upstream != null) scheduleConnect(0);
  }

  void removeStandbySetup() {
    standbySignal = false;
    upstreamCfg = null;
    ffMode = false;
  }

  // ------------------------------------------------------------------ streaming replication

  private void scheduleConnect(long delayUs) {
    long inc = proc.incarnation;
    proc.post(delayUs, () -> {
      if (proc.incarnation == inc) connect();
    });
  }

  private void connect() {
    if (!up() || !inRecovery || !standbySignal || upstreamCfg == null || rx != null) return;
    if (w.now < retryAtUs) {
      scheduleConnect(retryAtUs - w.now);
      return;
    }
    SimPg up = w.pgOf(upstreamCfg);
    if (up == null || up == this) {
      failConnect("could not connect: unknown upstream " + upstreamCfg, true);
      return;
    }
    Receiver r = new Receiver(w.nextId(), upstreamCfg);
    rx = r;
    attemptHandshake(r, up, 0);
  }

  private static final long[] SYN_RETRIES_MS = {1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000};

  private void attemptHandshake(Receiver r, SimPg up, int synTry) {
    if (rx != r) return;
    Net.Link l = w.net.path(node.host, up.node.host);
    if (l == Net.Link.RESET || (l == Net.Link.OPEN && !up.proc.alive)) {
      proc.post(2 * w.net.latency(node.host, up.node.host), () -> {
        if (rx == r) failConnect("could not connect to the primary server: connection refused", true);
      });
      return;
    }
    if (l == Net.Link.DROP) {
      if (synTry >= SYN_RETRIES_MS.length) {
        failConnect("could not connect to the primary server: connection timed out", true);
        return;
      }
      proc.post(SYN_RETRIES_MS[synTry] * 1000, () -> attemptHandshake(r, up, synTry + 1));
      return;
    }
    long conn = r.conn;
    SimPg me = this;
    long upInc = up.proc.incarnation;
    w.net.sendRetrying(node.host, up.node.host, () -> up.proc.now(() -> up.acceptStandby(me, conn)));
    watchHandshake(r, up, upInc);
  }

  /** A server that dies with our connection half open resets it, once a packet can reach us. */
  private void watchHandshake(Receiver r, SimPg up, long upInc) {
    proc.post(1_000_000, () -> {
      if (rx != r || r.streaming) return;
      if (up.proc.incarnation != upInc && w.net.open(node.host, up.node.host)) {
        failConnect("could not connect to the primary server: server closed the connection unexpectedly", true);
      } else {
        watchHandshake(r, up, upInc);
      }
    });
  }

  private void failConnect(String why, boolean waitRetry) {
    rx = null;
    trace("walreceiver: " + why);
    if (waitRetry) retryAtUs = w.now + settings().walRetrieveRetryMs() * 1000;
    scheduleConnect(waitRetry ? settings().walRetrieveRetryMs() * 1000 : 0);
  }

  /** On the upstream: a standby asks to stream (IDENTIFY_SYSTEM, slot, START_REPLICATION). */
  private void acceptStandby(SimPg standby, long conn) {
    String err = null;
    if (!up()) {
      err = "connection refused";
    } else if (standby.sysid != sysid) {
      err = "database system identifier differs";
    } else if (!standby.ffMode && !slots.contains(standby.id())) {
      err = "replication slot \"pgwarden_" + standby.id() + "\" does not exist";
    } else if (standby.tl == null || !Wal.isPrefix(standby.tl, standby.flushed, tl, flushed)) {
      err = standby.flushed > flushed && standby.tl != null && Wal.holds(tl, flushed, standby.tl, standby.flushed)
          ? "requested starting point is ahead of the WAL flush position of this server"
          : "new timeline forked off current database system timeline before current recovery point";
    }
    String e = err;
    if (e != null) {
      w.net.sendRetrying(node.host, standby.node.host, () -> standby.proc.now(() -> {
        if (standby.rx != null && standby.rx.conn == conn) standby.failConnect(e, true);
      }));
      return;
    }
    Sender s = new Sender(conn, standby, standby.id());
    s.write = s.flush = s.apply = standby.flushed;
    s.sentUpTo = standby.flushed;
    s.lastReplyWallUs = node.host.clock.wallUs(w.now);
    s.lastReplyTrueUs = w.now;
    Sender old = senders.put(standby.id(), s);
    if (old != null) old.standby.upstreamClosed(old.conn, node.host);
    w.net.sendRetrying(node.host, standby.node.host, () -> standby.proc.now(() -> standby.streamingStarted(conn)));
    keepalive(s);
    senderTimeout(s);
    push(s);
  }

  private void streamingStarted(long conn) {
    if (rx == null || rx.conn != conn) return;
    rx.streaming = true;
    touch(rx);
    receiverTimeout(rx);
    trace("walreceiver streaming from node " + rx.upstream);
  }

  private void touch(Receiver r) {
    r.lastMsgWallUs = node.host.clock.wallUs(w.now);
    r.lastMsgTrueUs = w.now;
  }

  private void receiverTimeout(Receiver r) {
    long due = r.lastMsgTrueUs + settings().walReceiverTimeoutMs() * 1000;
    proc.post(Math.max(0, due - w.now), () -> {
      if (rx != r) return;
      if (w.now >= r.lastMsgTrueUs + settings().walReceiverTimeoutMs() * 1000) {
        rx = null;
        trace("walreceiver: terminating due to timeout");
        SimPg up = w.pgOf(r.upstream);
        if (up != null) up.senderClosed(r.conn, node.host);
        scheduleConnect(0); // a new walreceiver is started at once
      } else {
        receiverTimeout(r);
      }
    });
  }

  private void senderTimeout(Sender s) {
    long due = s.lastReplyTrueUs + settings().walSenderTimeoutMs() * 1000;
    proc.post(Math.max(0, due - w.now), () -> {
      if (senders.get(s.appId) != s) return;
      if (w.now >= s.lastReplyTrueUs + settings().walSenderTimeoutMs() * 1000) {
        senders.remove(s.appId);
        trace("walsender for node " + s.appId + ": terminating due to replication timeout");
        releaseWaiters();
      } else {
        senderTimeout(s);
      }
    });
  }

  private void keepalive(Sender s) {
    proc.post(settings().keepaliveMs() * 1000, () -> {
      if (senders.get(s.appId) != s) return;
      long conn = s.conn;
      SimPg sb = s.standby;
      w.net.send(node.host, sb.node.host, () -> sb.proc.now(() -> sb.onMessage(conn, null, -1)));
      keepalive(s);
    });
  }

  void pushAll() {
    for (Sender s : senders.values()) push(s);
  }

  private void push(Sender s) {
    if (!up() || s.sentUpTo >= flushed) return;
    long end = flushed;
    Timeline t = tl;
    s.sentUpTo = end;
    long conn = s.conn;
    SimPg sb = s.standby;
    w.net.send(node.host, sb.node.host, () -> sb.proc.now(() -> sb.onMessage(conn, t, end)));
  }

  /** On the standby: WAL up to {@code end} of lineage {@code t}, or a keepalive when {@code t} is null. */
  private void onMessage(long conn, Timeline t, long end) {
    Receiver r = rx;
    if (r == null || r.conn != conn || !up()) return;
    touch(r);
    if (t != null && end > flushed && Wal.isPrefix(tl, flushed, t, end)) {
      tl = t;
      flushed = written = end;
      long replayDelay = w.rng.chance(0.05) ? w.rng.between(50_000, 800_000) : w.rng.between(200, 5_000);
      long target = end;
      long inc = proc.incarnation;
      proc.post(replayDelay, () -> {
        if (proc.incarnation != inc || !inRecovery) return;
        if (target > replayed && target <= flushed) replayed = target;
        reply(r);
      });
      pushAll(); // cascading standbys and fast-forward clients
    }
    reply(r);
  }

  private void reply(Receiver r) {
    if (rx != r) return;
    SimPg up = w.pgOf(r.upstream);
    if (up == null) return;
    long f = flushed;
    long a = replayed;
    long conn = r.conn;
    w.net.send(node.host, up.node.host, () -> up.proc.now(() -> up.onReply(conn, id(), f, a)));
  }

  private void onReply(long conn, int appId, long flush, long apply) {
    Sender s = senders.get(appId);
    if (s == null || s.conn != conn) return;
    s.write = Math.max(s.write, flush);
    s.flush = Math.max(s.flush, flush);
    s.apply = Math.max(s.apply, apply);
    s.lastReplyWallUs = node.host.clock.wallUs(w.now);
    s.lastReplyTrueUs = w.now;
    if (s.flush >= flushed) s.caughtUp = true;
    releaseWaiters();
  }

  /** On the upstream: the standby's connection closed (FIN/RST reached us if the path allowed it). */
  void senderClosed(long conn, Host from) {
    if (w.net.path(from, node.host) != Net.Link.OPEN) return; // the RST is lost: wal_sender_timeout will tell
    w.after(w.net.latency(from, node.host), () -> proc.now(() -> {
      for (Sender s : senders.values()) {
        if (s.conn == conn) {
          senders.remove(s.appId);
          releaseWaiters();
          return;
        }
      }
    }));
  }

  /** On the standby: the upstream closed the connection. */
  void upstreamClosed(long conn, Host from) {
    if (w.net.path(from, node.host) != Net.Link.OPEN) return;
    w.after(w.net.latency(from, node.host), () -> proc.now(() -> {
      if (rx != null && rx.conn == conn) failConnect("could not receive data from WAL stream: server closed the"
          + " connection unexpectedly", true);
    }));
  }

  /** A partition that resets connections: both ends notice at once. */
  void resetConnectionsWith(Host other) {
    if (rx != null) {
      SimPg up = w.pgOf(rx.upstream);
      if (up != null && up.node.host == other) {
        Receiver r = rx;
        proc.now(() -> {
          if (rx == r) failConnect("connection reset by peer", true);
        });
      }
    }
    for (Sender s : new ArrayList<>(senders.values())) {
      if (s.standby.node.host == other) {
        proc.now(() -> {
          if (senders.get(s.appId) == s) {
            senders.remove(s.appId);
            releaseWaiters();
          }
        });
      }
    }
  }

  // ------------------------------------------------------------------ transactions

  /**
   * A client's INSERT and COMMIT at {@code level}. {@code done} hears null for success (then the commit
   * carries whether the wait was cancelled), else the error the client saw.
   */
  void commit(String level, int client, Consumer<String> done, Consumer<Commit> started) {
    if (!up()) {
      done.accept("connection refused");
      return;
    }
    if (inRecovery) {
      done.accept("cannot execute INSERT in a read-only transaction (recovery)");
      return;
    }
    if (readOnlyDefault) {
      done.accept("cannot execute INSERT in a read-only transaction");
      return;
    }
    long bytes = w.rng.between(90, 4_000);
    written += bytes;
    Commit c = new Commit(w.nextId(), node.index, tl, written, level, bytes);
    tl.commits.add(c);
    w.commits.add(c);
    started.accept(c);
    if (!level.equals("off")) {
      flushed = written;
      markFlushed();
      pushAll();
    } else {
      long inc = proc.incarnation;
      proc.post(w.rng.between(5_000, 200_000), () -> { // the walwriter
        if (proc.incarnation != inc || !up() || inRecovery) return;
        if (written > flushed) {
          flushed = written;
          markFlushed();
          pushAll();
        }
      });
    }
    if (waitsForSync(level)) {
      waiters.add(new Waiter(c, done));
      releaseWaiters();
    } else {
      acknowledge(c, false);
      done.accept(null);
    }
  }

  private boolean waitsForSync(String level) {
    if (level.equals("local") || level.equals("off")) return false;
    return syncConfig().synchronous();
  }

  /** A CancelRequest for the backend waiting on commit {@code c}: success, with a warning. */
  void cancelWait(Commit c) {
    for (int i = 0; i < waiters.size(); i++) {
      Waiter x = waiters.get(i);
      if (x.c == c) {
        waiters.remove(i);
        acknowledge(c, true);
        x.done.accept(null);
        return;
      }
    }
  }

  private void acknowledge(Commit c, boolean cancelled) {
    c.ackedAtUs = w.now;
    c.cancelled = cancelled;
    w.inv.acknowledged(this, c);
  }

  private void releaseWaiters() {
    if (waiters.isEmpty()) return;
    SyncConfig conf = syncConfig();
    List<Waiter> release = new ArrayList<>();
    for (Waiter x : waiters) {
      if (!conf.synchronous() || satisfied(conf, x.c)) release.add(x);
    }
    for (Waiter x : release) {
      waiters.remove(x);
      acknowledge(x.c, false);
      x.done.accept(null);
    }
  }

  private boolean satisfied(SyncConfig conf, Commit c) {
    int n = 0;
    for (int member : conf.members()) {
      Sender s = senders.get(member);
      if (s == null || !s.caughtUp) continue;
      long pos = c.level.equals("remote_apply") ? s.apply : c.level.equals("remote_write") ? s.write : s.flush;
      if (pos >= c.lsnEnd) n++;
    }
    return n >= conf.required();
  }

  /** The flush position that {@code required} of the quorum confirmed (for AwaitSyncStandbys). */
  boolean quorumFlushed(long lsn) {
    SyncConfig conf = syncConfig();
    if (!conf.synchronous()) return true;
    int n = 0;
    for (int member : conf.members()) {
      Sender s = senders.get(member);
      if (s != null && s.caughtUp && s.flush >= lsn) n++;
    }
    return n >= conf.required();
  }

  private String parsedNames;
  private int parsedFor;
  private SyncConfig parsed;

  /** synchronous_standby_names as PostgreSQL parsed it (cached: it changes only on reload). */
  private SyncConfig syncConfig() {
    if (parsed == null || parsedFor != id() || !syncNames.equals(parsedNames)) {
      parsed = SyncConfig.parse(id(), syncNames);
      parsedNames = syncNames;
      parsedFor = id();
    }
    return parsed;
  }

  // ------------------------------------------------------------------ the facts query

  /** What the keeper's one facts query returns now (the keeper shell adds its probe of the primary). */
  PgFacts facts(Long primaryProbeAgeMs) {
    if (status == Status.STOPPED || !proc.alive) return PgFacts.stopped();
    if (status != Status.RUNNING || !proc.running()) {
      return new PgFacts(PgStatus.HUNG, false, 0, 0, Lsn.ZERO, Lsn.ZERO, "", List.of(), null, primaryProbeAgeMs);
    }
    long wallNow = node.host.clock.wallUs(w.now);
    List<WalSenderInfo> ss = new ArrayList<>();
    SyncConfig conf = syncConfig();
    for (Sender s : senders.values()) {
      String sync = conf.synchronous() && conf.members().contains(s.appId) ? "quorum" : "async";
      ss.add(new WalSenderInfo("pgwarden_" + s.appId, s.appId, s.caughtUp ? "streaming" : "catchup", sync,
          Lsn.of(s.flush), Lsn.of(s.apply), Math.floorDiv(wallNow - s.lastReplyWallUs, 1000)));
    }
    WalReceiverInfo wr = null;
    if (rx != null && rx.streaming) {
      SimPg up = w.pgOf(rx.upstream);
      wr = new WalReceiverInfo("streaming", rx.upstream, up == null ? "?" : up.node.host.name, 5432, timeline(),
          Math.floorDiv(wallNow - rx.lastMsgWallUs, 1000));
    }
    return new PgFacts(PgStatus.RUNNING, inRecovery, sysid, timeline(), Lsn.of(flushed),
        inRecovery ? Lsn.of(replayed) : Lsn.ZERO, syncNames, ss, wr, primaryProbeAgeMs);
  }

  @Override
  public String toString() {
    return "pg" + node.index + "{" + status + (inRecovery ? " standby" : "") + " tl " + tl + " "
        + Long.toHexString(flushed) + "}";
  }
}
