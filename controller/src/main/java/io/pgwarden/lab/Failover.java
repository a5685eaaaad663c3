package io.pgwarden.lab;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgwarden.api.Dto;
import io.pgwarden.lab.Lab.Node;
import io.pgwarden.model.NodeState;
import java.io.IOException;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * One failover, played for real on a {@link Lab} and measured from the client's side: a client writer
 * inserts a numbered row every 20 ms through the multi-host JDBC URL and records each acknowledgement;
 * an adversary writes straight to the primary's port with synchronous_commit = local; the fault is
 * injected; the old primary comes back and rejoins; every acknowledged row is looked for on every node.
 */
public final class Failover {
  private Failover() {}

  public enum Scenario {
    /** The primary's whole host dies: keeper, postmaster and backends SIGKILLed by PID; the keeper is restarted. */
    HOST_KILL("host-kill"),
    /** The primary's whole host freezes (SIGSTOP of keeper, postmaster, backends) until a failover, then SIGCONT. */
    HOST_STALL("host-stall"),
    /** PostgreSQL alone crashes on the primary (postmaster and backends SIGKILLed); its keeper lives. */
    PG_CRASH("pg-crash"),
    /** An operator switchover. */
    SWITCHOVER("switchover");

    public final String label;

    Scenario(String label) {
      this.label = label;
    }

    public static Scenario of(String s) {
      for (Scenario x : values()) {
        if (x.label.equals(s)) return x;
      }
      throw new IllegalArgumentException("unknown scenario '" + s + "' (host-kill, host-stall, pg-crash, switchover)");
    }
  }

  /**
   * What one run measured. Times in ms; null where it does not apply.
   *
   * @param unavailableMs fault to the client's first acknowledgement afterwards (from the new primary)
   * @param gapMs the longest gap between two acknowledgements around the fault
   * @param acked rows the client saw acknowledged in the run
   * @param lost acknowledged rows missing on some node at the end
   * @param lateAcks the old primary's acknowledgements (to the adversary) after the new primary's first
   * @param rejoinMs from the old primary's keeper start (host-kill; SIGCONT for host-stall; the fault
   *     otherwise) until it streams in the new primary's pg_stat_replication
   * @param rejoinFromLogMs the same from the keeper's "keeper running" log line (host-kill)
   * @param rejoinMethod pg_rewind, pg_basebackup, or none
   */
  public record Result(String scenario, int run, String oldPrimary, String newPrimary, long unavailableMs, long gapMs,
      long acked, long lost, long lateAcks, long lateSyncAcks, long adversaryAcks, long newFirstAckWall,
      Long writesOpenMs, Long rejoinMs, Long rejoinFromLogMs,
      String rejoinMethod, Long bytesDiscarded, String note) {

    public String json() {
      return String.format(Locale.ROOT, "{\"scenario\":\"%s\",\"run\":%d,\"old_primary\":\"%s\",\"new_primary\":\"%s\","
              + "\"unavailable_ms\":%d,\"gap_ms\":%d,\"acked\":%d,\"lost\":%d,\"late_acks\":%d,"
              + "\"late_acks_sync_on\":%d,\"adversary_acks\":%d,"
              + "\"writes_open_ms\":%s,\"rejoin_ms\":%s,\"rejoin_from_keeper_log_ms\":%s,\"rejoin_method\":%s,"
              + "\"bytes_discarded\":%s,\"note\":%s}",
          scenario, run, oldPrimary, newPrimary, unavailableMs, gapMs, acked, lost, lateAcks, lateSyncAcks, adversaryAcks,
          writesOpenMs, rejoinMs, rejoinFromLogMs, q(rejoinMethod), bytesDiscarded, q(note));
    }

    private static String q(String s) {
      return s == null ? "null" : "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
  }

  static final Duration WAIT = Duration.ofSeconds(90);

  /** Plays {@code sc} once; {@code say} gets one line per step. */
  public static Result run(Lab lab, Scenario sc, int run, Consumer<String> say) throws Exception {
    Node old = lab.awaitSettled(WAIT);
    Writers ws = Writers.start(lab, old, run);
    Writer client = ws.client();
    Writer adversary = ws.local();
    Writer syncAdversary = ws.sync();
    Lab.await("the client's first writes", WAIT, () -> client.acks().size() >= 50 && !adversary.acks().isEmpty()
        && !syncAdversary.acks().isEmpty());
    long clientAcksBefore = client.acks().size();
    say.accept(String.format(Locale.ROOT, "written %d rows through the multi-host URL (one every 20 ms), primary %s",
        clientAcksBefore, old));

    long wallFault = System.currentTimeMillis();
    long t0 = System.nanoTime();
    List<Long> pids = List.of();
    if (sc == Scenario.HOST_KILL) {
      pids = lab.killHost(old);
      say.accept("killed the primary host " + old.name + ": keeper, postmaster and backends SIGKILLed by PID " + pids);
    } else if (sc == Scenario.HOST_STALL) {
      pids = old.hostPids();
      Lab.signal("STOP", pids);
      say.accept("froze the primary host " + old.name + ": keeper, postmaster and backends SIGSTOPped by PID " + pids);
    } else if (sc == Scenario.PG_CRASH) {
      pids = old.postgresPids();
      Lab.signal("KILL", pids);
      say.accept("crashed PostgreSQL on the primary " + old.name + ": postmaster and backends SIGKILLed by PID " + pids
          + " (its keeper lives)");
    } else {
      lab.api().perform(lab.formation, new Dto.OperatorRequest("switchover", null, null, null, null, "lab", null));
      say.accept("asked the controller for a switchover away from " + old.name);
    }

    // the first acknowledgement after the fault, from another node (for a crash, from any node once the
    // client has seen the crash)
    Writer.Ack[] first = new Writer.Ack[1];
    Lab.await("a write acknowledged after the fault", WAIT, () -> {
      first[0] = sc == Scenario.PG_CRASH ? client.firstAckAfterFailure(t0) : client.firstAckAfter(t0, old.pgport);
      return first[0] != null;
    });
    long unavailable = (first[0].nanos() - t0) / 1_000_000;
    Node now = byPort(lab, first[0].port());
    Long writesOpen = now == old ? null : decidedAfter(lab, "S17", wallFault);
    say.accept(String.format(Locale.ROOT, "%s: writes back after %.2f s, on %s%s",
        now != old ? "promoted " + now.name : "restarted on " + now.name, unavailable / 1000.0, now,
        writesOpen == null ? "" : String.format(Locale.ROOT, " (the controller opened writes at +%.2f s)",
            writesOpen / 1000.0)));

    Long rejoinMs = null;
    Long rejoinFromLog = null;
    long rejoinStart = t0;
    String note = null;
    if (sc == Scenario.HOST_STALL) {
      Lab.sleep(1_000);
      rejoinStart = System.nanoTime();
      Lab.signal("CONT", pids);
      say.accept(String.format(Locale.ROOT, "resumed the old primary's host (SIGCONT) %.2f s after the freeze",
          (rejoinStart - t0) / 1e9));
    } else if (sc == Scenario.HOST_KILL) {
      Lab.sleep(1_000);
      rejoinStart = System.nanoTime();
      old.startKeeper();
      say.accept("restarted the old primary's keeper (pid " + old.keeper().pid() + ")");
    }
    if (now != old) {
      long rs = rejoinStart;
      Lab.await(old.name + " streams from " + now.name, WAIT, () -> Lab.streamingFrom(now)
          .contains(Lab.applicationName(old)));
      long streamingAt = System.nanoTime();
      rejoinMs = (streamingAt - rs) / 1_000_000;
      if (sc == Scenario.HOST_KILL) {
        Long started = keeperStartedLine(old, System.currentTimeMillis() - rejoinMs - 1_000);
        if (started != null) {
          long wallStreaming = System.currentTimeMillis() - (System.nanoTime() - streamingAt) / 1_000_000;
          rejoinFromLog = wallStreaming - started;
        }
      }
    } else {
      note = "no failover: the old primary's keeper restarted PostgreSQL";
    }
    lab.awaitSettled(WAIT);
    Lab.sleep(500);
    client.close();
    adversary.close();
    syncAdversary.close();

    String method = null;
    Long bytes = null;
    if (now != old) {
      JsonNode rejoin = lastRewound(lab, old, wallFault);
      if (rejoin != null) {
        method = rejoin.path("method").asText(null);
        bytes = rejoin.path("bytes_discarded").isMissingNode() ? null : rejoin.path("bytes_discarded").asLong();
      }
      say.accept(String.format(Locale.ROOT, "old primary %s rejoined by %s in %.2f s%s, %s bytes discarded%s",
          old.name, method == null ? "?" : method, rejoinMs / 1000.0,
          sc == Scenario.HOST_KILL ? " after its keeper started" : sc == Scenario.HOST_STALL ? " after SIGCONT"
              : " after the " + (sc == Scenario.SWITCHOVER ? "request" : "fault"),
          bytes == null ? "?" : bytes.toString(),
          rejoinFromLog == null ? "" : String.format(Locale.ROOT, " (%.2f s after its 'keeper running' log line)",
              rejoinFromLog / 1000.0)));
    } else {
      say.accept(note);
    }

    long newFirst = first[0].nanos();
    long late = now == old ? 0 : adversary.acksAfter(newFirst);
    long lateSync = now == old ? 0 : syncAdversary.acksAfter(newFirst);
    long gap = client.longestGapMs(t0 - 1_000_000_000L, Long.MAX_VALUE);
    List<Writer.Ack> acked = client.acks();
    long lost = 0;
    List<String> per = new ArrayList<>();
    for (Node n : lab.nodes()) {
      List<Long> missing = awaitRows(n, acked);
      lost = Math.max(lost, missing.size());
      per.add(n.name + " has " + (acked.size() - missing.size()) + "/" + acked.size());
    }
    say.accept(String.format(Locale.ROOT, "rows checked: %d acknowledged, %d lost (%s); longest gap between"
            + " acknowledgements %.2f s; the old primary's acknowledgements after the new primary's first: %d"
            + " with synchronous_commit = local, %d with on",
        acked.size(), lost, String.join(", ", per), gap / 1000.0, late, lateSync));
    return new Result(sc.label, run, old.name, now.name, unavailable, gap, acked.size(), lost, late, lateSync,
        adversary.acks().size(), first[0].wallMs(), writesOpen, rejoinMs, rejoinFromLog, method, bytes, note);
  }

  /**
   * One stall of the envelope: the primary's keeper alone ({@code wholeNode} false) or its whole node
   * (keeper, postmaster, backends) SIGSTOPped for {@code ms}, then SIGCONT; the formation is left to
   * settle. Counts the failover decisions it caused, the client's longest gap and failed inserts, and
   * the old primary's late acknowledgements (both adversaries).
   */
  public record Stall(String what, long ms, long failovers, long gapMs, long failedInserts, long lateLocal,
      long lateSync) {
    public String line() {
      return String.format(Locale.ROOT, "STALL %s %.1f s: failovers=%d gap_s=%.2f failed_inserts=%d late_acks=%d"
          + " late_acks_sync_on=%d", what, ms / 1000.0, failovers, gapMs / 1000.0, failedInserts, lateLocal, lateSync);
    }
  }

  /**
   * The writers of one run: the client through the multi-host URL, and two adversaries straight on the
   * primary's port (synchronous_commit local and on); row numbers kept apart per run and per writer.
   */
  record Writers(Writer client, Writer local, Writer sync) {
    static Writers start(Lab lab, Node primary, int run) throws Exception {
      try (Connection c = primary.connect()) {
        Writer.createTable(c);
      }
      long base = (long) run * 10_000_000L;
      return new Writers(Writer.client(lab, 20, base + 1).start(),
          Writer.adversary(primary, "local", 20, 1_000_000_000_000L + base).start(),
          Writer.adversary(primary, "on", 20, 2_000_000_000_000L + base).start());
    }
  }

  public static Stall stall(Lab lab, boolean wholeNode, long ms, int run) throws Exception {
    Node old = lab.awaitSettled(WAIT);
    Writers ws = Writers.start(lab, old, run);
    Writer client = ws.client();
    Writer local = ws.local();
    Writer sync = ws.sync();
    Lab.await("writes", WAIT, () -> client.acks().size() >= 25 && !local.acks().isEmpty());
    long wall = System.currentTimeMillis();
    long t0 = System.nanoTime();
    List<Long> pids = wholeNode ? old.hostPids() : List.of(old.keeper().pid());
    Lab.signal("STOP", pids);
    Lab.sleep(ms);
    Lab.signal("CONT", pids);
    Lab.sleep(6_000);
    lab.awaitSettled(WAIT);
    Lab.sleep(500);
    client.close();
    local.close();
    sync.close();
    long failovers = 0;
    for (Dto.EventView e : lab.api().events(lab.formation, null, wall, 1000).events()) {
      if (e.type().equals("decided") && e.event().path("rule").asText("").startsWith("F")) failovers++;
    }
    Writer.Ack first = client.firstAckAfter(t0, old.pgport);
    long late = first == null ? 0 : local.acksAfter(first.nanos());
    long lateSync = first == null ? 0 : sync.acksAfter(first.nanos());
    List<Long> missing = new ArrayList<>();
    for (Node n : lab.nodes()) missing.addAll(awaitRows(n, client.acks()));
    if (!missing.isEmpty()) throw new IllegalStateException("acknowledged rows lost: " + missing);
    return new Stall(wholeNode ? "whole-node" : "keeper-only", ms, failovers, client.longestGapMs(t0, Long.MAX_VALUE),
        client.failuresAfter(t0), late, lateSync);
  }

  static Node byPort(Lab lab, int port) {
    for (Node n : lab.nodes()) {
      if (n.pgport == port) return n;
    }
    throw new IllegalStateException("no node on port " + port);
  }

  /** Waits (up to 20 s) until {@code n} has every acknowledged row; returns those still missing. */
  static List<Long> awaitRows(Node n, List<Writer.Ack> acked) throws SQLException {
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (true) {
      List<Long> missing;
      try (Connection c = n.connect()) {
        missing = Writer.missing(c, acked);
      }
      if (missing.isEmpty() || System.nanoTime() > deadline) return missing;
      Lab.sleep(100);
    }
  }

  /** Milliseconds from {@code sinceWall} to the first decision whose rule starts with {@code rule}, or null. */
  static Long decidedAfter(Lab lab, String rule, long sinceWall) {
    Long best = null;
    for (Dto.EventView e : lab.api().events(lab.formation, null, null, 1000).events()) {
      if (e.type().equals("decided") && e.at() >= sinceWall && e.event().path("rule").asText("").startsWith(rule)) {
        long ms = e.at() - sinceWall;
        if (best == null || ms < best) best = ms;
      }
    }
    return best;
  }

  /** The newest node.rewound event of {@code n} at or after {@code sinceWall}: how it rejoined. */
  static JsonNode lastRewound(Lab lab, Node n, long sinceWall) {
    for (Dto.EventView e : lab.api().events(lab.formation, null, null, 1000).events()) {
      if (e.type().equals("node.rewound") && e.persistenceId().endsWith("|" + n.id()) && e.at() >= sinceWall) {
        return e.event().path("rejoin");
      }
    }
    return null;
  }

  /** The wall time (ms) of the newest "keeper running" line in the node's log at or after {@code since}. */
  static Long keeperStartedLine(Node n, long since) {
    try {
      List<String> lines = Files.readAllLines(n.lab().root.resolve(n.name + ".log"));
      for (int i = lines.size() - 1; i >= 0; i--) {
        String l = lines.get(i);
        if (!l.contains("keeper running:") || l.length() < 12) continue;
        LocalTime t = LocalTime.parse(l.substring(0, 12));
        long ms = LocalDate.now().atTime(t).atZone(ZoneId.systemDefault()).toInstant().toEpochMilli();
        if (ms >= since) return ms;
        return null;
      }
    } catch (IOException | RuntimeException e) {
      return null;
    }
    return null;
  }

  /** Every node reports what it was assigned. */
  static boolean stable(Lab lab) {
    for (Dto.NodeView v : lab.state().nodes()) {
      if (v.assignedState() != v.reportedState()) return false;
      if (v.reportedState() != NodeState.PRIMARY && v.reportedState() != NodeState.SECONDARY) return false;
    }
    return true;
  }
}
