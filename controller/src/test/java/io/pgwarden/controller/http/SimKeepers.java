package io.pgwarden.controller.http;

import io.pgwarden.api.ApiClient;
import io.pgwarden.api.ApiException;
import io.pgwarden.api.Dto;
import io.pgwarden.model.Lsn;
import io.pgwarden.model.NodeReport;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.PgStatus;
import io.pgwarden.model.ReportReply;
import io.pgwarden.model.TermSeq;
import io.pgwarden.model.WalReceiverInfo;
import io.pgwarden.model.WalSenderInfo;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;

/**
 * Idealised keepers talking to a live controller over HTTP, each with its own node credential. A keeper
 * reaches whatever goal it is given at once and reports it on its next report (sent right away, then held
 * by the controller's long-poll until the goal changes or the wait ends); a standby streams from its
 * upstream; a primary applies the synchronous_standby_names it is told. Each node also has a "postmaster":
 * a loopback socket that answers the controller's startup-packet probe as PostgreSQL would (asking for
 * a password). The simulation's facts are shared by all keepers of the formation (one lock).
 */
public final class SimKeepers implements AutoCloseable {
  private final Duration wait;

  private final URI base;
  private final String formation;
  private final ApiClient operator;
  private final Map<Integer, Sim> nodes = new TreeMap<>();
  private final Object lock = new Object();

  /** A listener told of every new goal a keeper receives, with the nanoTime it arrived. */
  public interface GoalListener {
    void received(Sim node, ReportReply reply, long atNanos);
  }

  private volatile GoalListener listener = (n, r, t) -> { };

  /** @param wait how long a report may be held (the long-poll): the keeper's report interval */
  SimKeepers(URI base, String formation, ApiClient operator, Duration wait) {
    this.base = base;
    this.formation = formation;
    this.operator = operator;
    this.wait = wait;
  }

  public void onGoal(GoalListener l) {
    listener = l == null ? (n, r, t) -> { } : l;
  }

  /** One keeper and its PostgreSQL. */
  public final class Sim {
    public final String name;
    public final int id;
    public final String credential;
    final ApiClient client;
    final ServerSocket postmaster;
    final Thread loop;
    final Thread accept;
    volatile boolean running = true;
    /** The keeper reports (false: it is silent, as if its host had stopped). */
    public volatile boolean reporting = true;
    /** The keeper reports but does not carry out new goals (as if each took forever). */
    public volatile boolean frozen;
    /** The postmaster answers probes. */
    public volatile boolean pgUp = true;
    volatile NodeState state = NodeState.INIT;
    volatile TermSeq executed = TermSeq.NONE;
    long knownTerm;
    PgStatus pg = PgStatus.RUNNING;
    int timeline = 1;
    long lsn = 0x3000000;
    String syncNames = "";
    Integer upstream;
    volatile ReportReply lastReply;
    volatile int errors;
    volatile ApiException lastError;

    Sim(String name, Dto.RegisterNode request, ServerSocket postmaster, Dto.Registration reg) {
      this.name = name;
      this.id = reg.nodeId();
      this.credential = reg.credential();
      this.postmaster = postmaster;
      this.client = new ApiClient(base, credential, Duration.ofSeconds(5), null);
      this.accept = new Thread(this::serveProbes, "sim-postmaster-" + name);
      this.loop = new Thread(this::run, "sim-keeper-" + name);
      accept.setDaemon(true);
      loop.setDaemon(true);
    }

    public NodeState state() {
      return state;
    }

    public TermSeq executed() {
      return executed;
    }

    public ReportReply lastReply() {
      return lastReply;
    }

    /** False once the keeper stopped (closed, or dropped from its formation). */
    public boolean running() {
      return running;
    }

    public int port() {
      return postmaster.getLocalPort();
    }

    private void run() {
      while (running) {
        if (!reporting) {
          LiveController.sleep(10);
          continue;
        }
        NodeReport r;
        TermSeq known;
        synchronized (lock) {
          r = reportOf(this);
          known = executed;
        }
        try {
          ReportReply reply = client.report(formation, id, r, known, wait);
          long at = System.nanoTime();
          boolean newGoal;
          synchronized (lock) {
            lastReply = reply;
            knownTerm = Math.max(knownTerm, reply.term());
            newGoal = reply.goal().stamp().isNewerThan(executed) && !frozen;
            if (newGoal) execute(this, reply);
          }
          if (newGoal) listener.received(this, reply, at);
          if (frozen) LiveController.sleep(wait.toMillis()); // still "working" on the goal
        } catch (ApiException e) {
          if (state == NodeState.DROPPED && e.status() / 100 == 4) {
            running = false; // removed from the formation: the keeper's work is done
            break;
          }
          errors++;
          lastError = e;
          if (running) LiveController.sleep(20);
        }
      }
    }

    /** Answers a startup packet with AuthenticationCleartextPassword, as a live PostgreSQL would. */
    private void serveProbes() {
      while (running) {
        try (Socket s = postmaster.accept()) {
          s.setSoTimeout(500);
          if (!pgUp) continue; // closed without an answer: dead to the probe
          DataInputStream in = new DataInputStream(s.getInputStream());
          int len = in.readInt();
          if (len > 4 && len < 10_000) in.readFully(new byte[len - 4]);
          OutputStream out = s.getOutputStream();
          out.write(new byte[] {'R', 0, 0, 0, 8, 0, 0, 0, 3});
          out.flush();
        } catch (IOException e) {
          // the probe went away, or the socket is closed at the end
        }
      }
    }

    void stop() {
      running = false;
      try {
        postmaster.close();
      } catch (IOException ignored) {
        // closing
      }
      try {
        loop.join(3_000);
        accept.join(1_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Registers a node with the operator token and starts its keeper. */
  public Sim add(String name) {
    return add(name, null, null);
  }

  public Sim add(String name, Integer candidatePriority, Boolean replicationQuorum) {
    Sim s = register(name, candidatePriority, replicationQuorum);
    s.loop.start();
    return s;
  }

  /**
   * Registers a node and starts its postmaster, but no keeper loop: the test reports for it by hand
   * with {@link Sim#credential}.
   */
  public Sim addManual(String name) {
    return register(name, null, null);
  }

  private Sim register(String name, Integer candidatePriority, Boolean replicationQuorum) {
    ServerSocket pm;
    try {
      pm = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    Dto.RegisterNode req = new Dto.RegisterNode(name, "127.0.0.1", pm.getLocalPort(), null, candidatePriority,
        replicationQuorum);
    Dto.Registration reg = operator.register(formation, req);
    Sim s = new Sim(name, req, pm, reg);
    synchronized (lock) {
      nodes.put(s.id, s);
    }
    s.accept.start();
    return s;
  }

  public Sim node(String name) {
    synchronized (lock) {
      return nodes.values().stream().filter(n -> n.name.equals(name)).findFirst().orElseThrow();
    }
  }

  public List<Sim> all() {
    synchronized (lock) {
      return List.copyOf(nodes.values());
    }
  }

  /** The node whose keeper runs writable now, or null. */
  public Sim writer() {
    synchronized (lock) {
      return nodes.values().stream().filter(n -> n.running && n.state.canTakeWrites()).findFirst().orElse(null);
    }
  }

  /** Waits until the controller shows every node's reported state equal to its assigned one, and a primary. */
  public Dto.FormationState awaitSettled(Duration max) {
    long deadline = System.nanoTime() + max.toNanos();
    Dto.FormationState s = null;
    while (System.nanoTime() < deadline) {
      s = operator.state(formation);
      boolean settled = s.primaryNodeId() != null && s.writesOpen()
          && s.nodes().stream().allMatch(n -> n.assignedState() == n.reportedState());
      if (settled) return s;
      LiveController.sleep(10);
    }
    throw new AssertionError("formation " + formation + " did not settle in " + max + ": " + s);
  }

  public static void await(BooleanSupplier cond, Duration max, String what) {
    long deadline = System.nanoTime() + max.toNanos();
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("not within " + max + ": " + what);
      LiveController.sleep(5);
    }
  }

  // ---- the idealised keeper's facts (under the lock) ----------------------------------------------

  private NodeReport reportOf(Sim s) {
    boolean writable = s.state.canTakeWrites() || s.state == NodeState.STOP_REPLICATION;
    List<WalSenderInfo> senders = new ArrayList<>();
    WalReceiverInfo receiver = null;
    if (writable) {
      for (Sim o : nodes.values()) {
        if (o.id != s.id && o.running && o.reporting && o.upstream != null && o.upstream == s.id
            && o.state.isStreamingStandby()) {
          senders.add(new WalSenderInfo("pgwarden_" + o.id, o.id, "streaming", "async", Lsn.of(o.lsn), Lsn.of(o.lsn),
              100L));
        }
      }
    } else if (s.upstream != null && s.state.isStreamingStandby()) {
      receiver = new WalReceiverInfo("streaming", s.upstream, "127.0.0.1", 0, s.timeline, 50L);
    }
    return new NodeReport(s.state, s.executed, s.knownTerm, s.pg, !writable, 7, s.timeline, Lsn.of(s.lsn),
        Lsn.of(s.lsn), s.syncNames, senders, receiver, null, false, null, null);
  }

  private void execute(Sim s, ReportReply reply) {
    NodeState g = reply.goal().state();
    s.executed = reply.goal().stamp();
    NodeState from = s.state;
    s.state = g;
    if (g.canTakeWrites()) {
      s.upstream = null;
      s.syncNames = reply.syncStandbyNames() == null ? "" : reply.syncStandbyNames();
      if (!from.canTakeWrites() && from != NodeState.STOP_REPLICATION && from != NodeState.INIT) s.timeline++;
    } else if (g == NodeState.STOP_REPLICATION) {
      s.timeline++;
      s.upstream = null;
    } else if (reply.upstream() != null) {
      s.upstream = reply.upstream().nodeId();
      Sim up = nodes.get(s.upstream);
      if (up != null && g != NodeState.FAST_FORWARD) {
        s.timeline = up.timeline;
        s.lsn = Math.max(s.lsn, up.lsn);
      } else if (g == NodeState.FAST_FORWARD && reply.fastForwardTo() != null) {
        s.lsn = reply.fastForwardTo().value();
      }
    } else if (g == NodeState.REPORT_LSN || g == NodeState.JOIN_SECONDARY) {
      s.upstream = null;
    }
    if (g == NodeState.DRAINING || g == NodeState.DEMOTE_TIMEOUT || g == NodeState.DEMOTED
        || g == NodeState.PREPARE_MAINTENANCE) {
      s.pg = PgStatus.STOPPED;
    } else if (g == NodeState.CATCHINGUP || g == NodeState.SECONDARY || g == NodeState.REPORT_LSN
        || g.canTakeWrites()) {
      s.pg = PgStatus.RUNNING;
    }
  }

  @Override
  public void close() {
    for (Sim s : all()) s.stop();
  }
}
