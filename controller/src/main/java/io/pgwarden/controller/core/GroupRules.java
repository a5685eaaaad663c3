package io.pgwarden.controller.core;

import static io.pgwarden.model.NodeState.APPLY_SETTINGS;
import static io.pgwarden.model.NodeState.CATCHINGUP;
import static io.pgwarden.model.NodeState.DEMOTED;
import static io.pgwarden.model.NodeState.DEMOTE_TIMEOUT;
import static io.pgwarden.model.NodeState.DRAINING;
import static io.pgwarden.model.NodeState.FAST_FORWARD;
import static io.pgwarden.model.NodeState.JOIN_SECONDARY;
import static io.pgwarden.model.NodeState.MAINTENANCE;
import static io.pgwarden.model.NodeState.PREPARE_MAINTENANCE;
import static io.pgwarden.model.NodeState.PREPARE_PROMOTION;
import static io.pgwarden.model.NodeState.PRIMARY;
import static io.pgwarden.model.NodeState.REPORT_LSN;
import static io.pgwarden.model.NodeState.SECONDARY;
import static io.pgwarden.model.NodeState.SINGLE;
import static io.pgwarden.model.NodeState.STOP_REPLICATION;
import static io.pgwarden.model.NodeState.WAIT_MAINTENANCE;
import static io.pgwarden.model.NodeState.WAIT_PRIMARY;
import static io.pgwarden.model.NodeState.WAIT_STANDBY;

import io.pgwarden.model.FormationEvent.FailoverContext;
import io.pgwarden.model.Lsn;
import io.pgwarden.model.NodeReport;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.Timing;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The group state machine: given a formation, what the controller has observed and the time, the one
 * next decision to take, if any. The rules follow pg_auto_failover's group state machine (their names
 * keep its rule numbers, see docs/architecture.md) with pgwarden's changes: writes move to a new node
 * only once every other node's write lease has certainly expired (or its keeper reported itself
 * stopped under its new goal); automatic failover only from a primary whose synchronous quorum covers
 * the candidate; two observers decide that a primary failed. Pure: no clock, no I/O, no hash order.
 */
public final class GroupRules {

  /** One decision: the goals it changes, the rule that fired, and whether it starts a new term. */
  public record Decision(String rule, String reason, SortedMap<Integer, NodeState> goals, boolean newTerm,
      Long walAtRisk, FailoverContext failover, Integer candidate) {}

  /** The decision to take now, if any, and when to evaluate again if a gate is closed (0: no need). */
  public record Result(Optional<Decision> decision, long wakeAtMono) {}

  /** Every rule name this class can fire, for coverage accounting in tests and the simulator. */
  public static final List<String> RULES = List.of(
      "G1-single-node", "G1-single-node-report-lsn",
      "P1-single-to-wait-primary", "P2-standby-unhealthy", "P2-primary-to-wait-primary",
      "P2-wait-primary-to-primary", "P2-apply-settings-done", "P2-sync-drift",
      "F1-failover-two-nodes", "F2-failover-start-election",
      "E0-candidate-failed", "E1-join-secondary", "E2-report-lsn", "E3-candidate-chosen", "E3-fast-forward",
      "S1-report-lsn-to-secondary", "S3-fast-forward-done", "S5-wait-standby-to-catchingup",
      "S6-wait-standby-to-catchingup", "S8-catchingup-to-secondary", "S10-wait-maintenance-done",
      "S12-promote-for-maintenance", "S14-promote", "S15-promote-no-primary", "S16-maintenance-handover",
      "S17-open-writes", "S17-open-writes-no-primary", "S18-demotion-done", "S19-demoted-to-catchingup", "S20-join-secondary-done",
      "S21-goal-without-a-path");

  private static final Set<NodeState> DEMOTING = EnumSet.of(DRAINING, DEMOTE_TIMEOUT, PREPARE_MAINTENANCE);

  private final Formation f;
  private final Observations obs;
  private final FailureDetector d;
  private final Timing t;
  private final long now;
  private final List<Member> active;
  private long wakeAt;

  private GroupRules(Formation f, Observations obs, Timing t, long now) {
    this.f = f;
    this.obs = obs;
    this.t = t;
    this.now = now;
    this.d = new FailureDetector(f, obs, t, now);
    this.active = f.active();
  }

  /** A view for questions outside a rule run (registration, replies, operator checks). */
  public static GroupRules of(Formation f, Observations obs, Timing t, long nowMono) {
    return new GroupRules(f, obs, t, nowMono);
  }

  public static Result evaluate(Formation f, Observations obs, Timing t, long nowMono) {
    GroupRules r = new GroupRules(f, obs, t, nowMono);
    Optional<Decision> dec = r.decide();
    return new Result(dec, r.wakeAt);
  }

  // ---------------------------------------------------------------- the order in which rules are tried

  private Optional<Decision> decide() {
    if (active.isEmpty()) return Optional.empty();
    if (active.size() == 1) return singleNode(active.get(0));
    Member w = writer();
    if (w != null) {
      Optional<Decision> r = primaryRules(w);
      if (r.isPresent()) return r;
      r = failoverDetection(w);
      if (r.isPresent()) return r;
    }
    Optional<Decision> r = candidateInFlight();
    if (r.isPresent()) return r;
    if (w == null && failoverInProgress()) {
      r = election();
      if (r.isPresent()) return r;
    }
    for (Member m : active) {
      r = standbyRules(m, w);
      if (r.isPresent()) return r;
    }
    return Optional.empty();
  }

  // ---------------------------------------------------------------- G1: one node

  private Optional<Decision> singleNode(Member n) {
    NodeState g = n.goalState();
    if (g == SINGLE || g == MAINTENANCE || g == WAIT_MAINTENANCE || g == PREPARE_MAINTENANCE) {
      return Optional.empty();
    }
    if (!n.settings().promotable()) {
      if (g == REPORT_LSN) return Optional.empty();
      return decision("G1-single-node-report-lsn", n.name() + " is alone and has candidate priority 0", false,
          goals(n, REPORT_LSN));
    }
    if (!g.canTakeWrites() && !writesMayMoveTo(n)) return Optional.empty();
    boolean newTerm = !g.canTakeWrites();
    return decision("G1-single-node", n.name() + " is the only node of the formation", newTerm, goals(n, SINGLE));
  }

  // ---------------------------------------------------------------- P: rules for the primary

  private Optional<Decision> primaryRules(Member p) {
    NodeState pr = rep(p);
    // P1
    if (current(p, SINGLE)) {
      for (Member n : others(p)) {
        if (current(n, WAIT_STANDBY)) {
          return decision("P1-single-to-wait-primary", n.name() + " waits to be cloned from " + p.name(), false,
              goals(p, WAIT_PRIMARY));
        }
      }
      return Optional.empty();
    }
    if (!EnumSet.of(PRIMARY, WAIT_PRIMARY, APPLY_SETTINGS).contains(p.goalState())) return Optional.empty();
    // P2: standbys that failed stop being promotable
    TreeMap<Integer, NodeState> changes = new TreeMap<>();
    List<String> why = new ArrayList<>();
    for (Member n : others(p)) {
      NodeState r = rep(n);
      if (n.goalState() == SECONDARY && r != REPORT_LSN && r != JOIN_SECONDARY && d.unhealthy(n.nodeId())) {
        changes.put(n.nodeId(), CATCHINGUP);
        why.add(n.name() + " is unhealthy");
      }
    }
    // A standby the controller has not heard from since it started is still counted as the secondary
    // its goal says it is: only evidence (silence and a failing probe) takes it out. Raising a primary
    // to synchronous replication, though, needs standbys seen in secondary.
    int secondaries = 0;
    int quorumSecondaries = 0;
    int quorumConfigured = 0;
    for (Member n : others(p)) {
      boolean stays = n.goalState() == SECONDARY && !changes.containsKey(n.nodeId())
          && (rep(n) == SECONDARY || rep(n) == null && !d.unhealthy(n.nodeId()));
      boolean sec = pr == WAIT_PRIMARY ? current(n, SECONDARY) && !changes.containsKey(n.nodeId()) : stays;
      if (sec) secondaries++;
      if (sec && n.settings().replicationQuorum()) quorumSecondaries++;
      if (n.settings().replicationQuorum() && n.goalState() != MAINTENANCE) quorumConfigured++;
    }
    int nss = f.settings().numberSyncStandbys();
    NodeState target = p.goalState();
    String rule = "P2-standby-unhealthy";
    if (pr == p.goalState()) {
      if (quorumConfigured == 0) {
        target = secondaries == 0 ? WAIT_PRIMARY : PRIMARY;
      } else if (pr != WAIT_PRIMARY && quorumSecondaries == 0) {
        target = nss == 0 ? WAIT_PRIMARY : PRIMARY;
      }
      if (pr == WAIT_PRIMARY && quorumSecondaries > 0) target = PRIMARY;
      if (pr == APPLY_SETTINGS) target = nss == 0 && quorumSecondaries == 0 ? WAIT_PRIMARY : PRIMARY;
      if (target == PRIMARY && pr == PRIMARY && syncDrift(p)) {
        changes.put(p.nodeId(), APPLY_SETTINGS);
        return decision("P2-sync-drift", "the synchronous quorum of " + p.name() + " must change to '"
            + desiredNames(p) + "'", false, changes);
      }
    } else if (p.goalState() == PRIMARY && pr == WAIT_PRIMARY && quorumConfigured > 0 && quorumSecondaries == 0
        && nss == 0) {
      // the standby it was waiting for failed before it caught up
      target = WAIT_PRIMARY;
    }
    if (target != p.goalState()) {
      changes.put(p.nodeId(), target);
      if (target == WAIT_PRIMARY) {
        rule = "P2-primary-to-wait-primary";
        why.add("no healthy quorum standby: " + p.name() + " stops waiting for synchronous replication");
      } else if (pr == APPLY_SETTINGS) {
        rule = "P2-apply-settings-done";
        why.add(p.name() + " applied its new settings");
      } else {
        rule = "P2-wait-primary-to-primary";
        why.add(quorumSecondaries + " quorum standby(s) in secondary: " + p.name() + " turns synchronous replication on");
      }
    }
    if (changes.isEmpty()) return Optional.empty();
    return decision(rule, String.join("; ", why), false, changes);
  }

  /** The primary applies a different quorum than the one the controller computes. */
  private boolean syncDrift(Member p) {
    NodeReport r = obs.of(p.nodeId()).report();
    if (r == null || r.pg() != io.pgwarden.model.PgStatus.RUNNING) return false;
    SyncConfig applied = SyncConfig.parse(p.nodeId(), r.syncStandbyNames());
    SyncConfig want = desired(p);
    return applied.required() != want.required() || !applied.members().equals(want.members());
  }

  // ---------------------------------------------------------------- F: deciding that the primary failed

  private Optional<Decision> failoverDetection(Member p) {
    if (p.goalState() == SINGLE) return Optional.empty();
    if (obs.uptime(now) < t.startupGraceMs()) {
      wake(obs.bootMono() + t.startupGraceMs());
      return Optional.empty();
    }
    FailureDetector.Verdict v = d.primaryVerdict(p);
    if (!v.failed()) {
      if (d.keeperSilent(p.nodeId())) wake(now + t.tickMs());
      return Optional.empty();
    }
    List<Member> standbys = others(p);
    Set<SyncConfig> configs = possibleConfigs(p);
    boolean guaranteed = configs.stream().allMatch(SyncConfig::synchronous);
    long allowed = f.settings().failoverDataLossAllowed();
    if (active.size() == 2) {
      Member s = standbys.get(0);
      if (!current(s, SECONDARY) || !d.healthy(s.nodeId()) || !s.settings().promotable()) return Optional.empty();
      boolean covered = guaranteed && covers(configs, Set.of(s.nodeId()));
      long risk = Math.max(0, lsn(p).minus(lsn(s)));
      boolean bug = KnownBugs.on(KnownBugs.Bug.PROMOTE_OUT_OF_WAIT_PRIMARY);
      if (!covered && !(allowed > 0 && risk <= allowed) && !bug) return Optional.empty();
      TreeMap<Integer, NodeState> g = goals(s, PREPARE_PROMOTION);
      g.put(p.nodeId(), DRAINING);
      return Optional.of(new Decision("F1-failover-two-nodes", "primary " + p.name() + " failed: " + v.why()
          + "; promoting " + s.name() + (covered ? " (in its confirmed synchronous quorum)"
          : " (asynchronous: up to at least " + risk + " bytes may be lost, allowed " + allowed + ")"),
          g, true, covered ? 0L : risk, new FailoverContext("automatic", p.nodeId(), null, v.why()), s.nodeId()));
    }
    boolean anyCandidate = standbys.stream().anyMatch(
        s -> current(s, SECONDARY) && d.healthy(s.nodeId()) && s.settings().promotable());
    if (!anyCandidate) return Optional.empty();
    if (!guaranteed && allowed == 0 && !KnownBugs.on(KnownBugs.Bug.PROMOTE_OUT_OF_WAIT_PRIMARY)) {
      return Optional.empty();
    }
    TreeMap<Integer, NodeState> g = goals(p, DRAINING);
    for (Member s : standbys) {
      if (joinsElection(s)) g.put(s.nodeId(), REPORT_LSN);
    }
    return Optional.of(new Decision("F2-failover-start-election", "primary " + p.name() + " failed: " + v.why()
        + "; electing among " + (g.size() - 1) + " standby(s)", g, true, null,
        new FailoverContext("automatic", p.nodeId(), null, v.why()), null));
  }

  // ---------------------------------------------------------------- E: election among several standbys

  private boolean failoverInProgress() {
    return f.failover() != null || active.stream().anyMatch(m -> DEMOTING.contains(m.goalState())
        || m.goalState() == REPORT_LSN || m.goalState() == FAST_FORWARD || m.goalState() == PREPARE_PROMOTION
        || m.goalState() == STOP_REPLICATION);
  }

  /** The node being promoted, when one is. */
  private Member candidate() {
    for (Member m : active) {
      NodeState g = m.goalState();
      if (g == FAST_FORWARD || g == PREPARE_PROMOTION || g == STOP_REPLICATION) return m;
    }
    return null;
  }

  private Optional<Decision> candidateInFlight() {
    Member c = candidate();
    if (c == null) return Optional.empty();
    // E0: a candidate that died is replaced, but only once its promotion permit has certainly run out
    if (d.unhealthy(c.nodeId()) && d.keeperSilent(c.nodeId()) || d.freshReport(c.nodeId()) != null
        && d.freshReport(c.nodeId()).pg() == io.pgwarden.model.PgStatus.FAILED) {
      long permitFree = permitFreeAt(c);
      if (now < permitFree) {
        wake(permitFree);
        return Optional.empty();
      }
      NodeState next = c.goalState() == STOP_REPLICATION ? DEMOTED : REPORT_LSN;
      return decision("E0-candidate-failed", "candidate " + c.name() + " failed before it opened writes", false,
          goals(c, next));
    }
    // E1: the others stop and wait for the new primary once it is ready to stream to them
    NodeState cr = rep(c);
    boolean ready = cr == STOP_REPLICATION || (cr == PREPARE_PROMOTION && c.goalState() == STOP_REPLICATION);
    if (ready) {
      TreeMap<Integer, NodeState> g = new TreeMap<>();
      for (Member n : others(c)) {
        if (current(n, REPORT_LSN)) g.put(n.nodeId(), JOIN_SECONDARY);
      }
      if (!g.isEmpty()) return decision("E1-join-secondary", c.name() + " is being promoted", false, g);
    }
    return Optional.empty();
  }

  private Optional<Decision> election() {
    if (candidate() != null) return Optional.empty();
    Member from = f.failover() == null ? null : f.member(f.failover().from()).orElse(null);
    TreeMap<Integer, NodeState> assign = new TreeMap<>();
    List<Member> reporting = new ArrayList<>();
    int waitingFor = 0;
    for (Member n : active) {
      NodeState g = n.goalState();
      NodeState r = rep(n);
      boolean silent = d.keeperSilent(n.nodeId());
      if (g == MAINTENANCE || g == WAIT_STANDBY || g == NodeState.INIT) continue;
      if (r == REPORT_LSN && g == REPORT_LSN && !silent && positionKnown(n)) {
        reporting.add(n);
      } else if (g == REPORT_LSN) {
        if (!silent) waitingFor++;
      } else if (!silent && joinsElection(n)) {
        assign.put(n.nodeId(), REPORT_LSN);
      }
    }
    if (!assign.isEmpty()) {
      return decision("E2-report-lsn", "election: " + assign.size() + " node(s) must report their LSN", false, assign);
    }
    if (waitingFor > 0) return Optional.empty();
    // Positions known for this election: the live reporters, and nodes that reported with no upstream
    // and have not been told to follow anyone since, whose WAL therefore cannot have moved.
    List<Member> known = new ArrayList<>(reporting);
    for (Member n : active) {
      if (!reporting.contains(n) && frozenForElection(n)) known.add(n);
    }
    Set<Integer> reported = new java.util.TreeSet<>();
    for (Member n : known) reported.add(n.nodeId());
    boolean guaranteed = true;
    Set<SyncConfig> configs = from == null ? Set.of() : possibleConfigs(from);
    for (SyncConfig c : configs) guaranteed &= c.synchronous();
    if (!configs.isEmpty() && guaranteed && !covers(configs, reported)) return Optional.empty();
    // the most advanced position among all that reported, whoever they are
    Member advanced = known.stream().max(Comparator.comparingInt(this::tli).thenComparing(this::lsn)
        .thenComparing(Comparator.comparingInt(Member::nodeId).reversed())).orElse(null);
    if (advanced == null) return Optional.empty();
    long risk = 0;
    if (from != null && !guaranteed) {
      risk = Math.max(0, lsn(from).minus(lsn(advanced)));
      long allowed = f.settings().failoverDataLossAllowed();
      if ((risk > allowed || allowed == 0) && !KnownBugs.on(KnownBugs.Bug.PROMOTE_OUT_OF_WAIT_PRIMARY)) {
        return Optional.empty();
      }
    }
    Integer preferred = f.failover() == null ? null : f.failover().preferred();
    boolean operatorFailover = f.failover() != null && !"automatic".equals(f.failover().kind());
    Member adv = advanced;
    Member chosen = reporting.stream()
        .filter(n -> n.settings().promotable() && d.healthy(n.nodeId()))
        // more WAL on an older timeline than the newest timeline reaches: it wrote past the fork (an old
        // primary), so no fast-forward can bring it onto the newest timeline
        .filter(n -> !(tli(n) < tli(adv) && lsn(n).compareTo(lsn(adv)) > 0))
        .filter(n -> !(operatorFailover && from != null && n.nodeId() == from.nodeId()))
        .min(Comparator.<Member>comparingInt(n -> preferred != null && n.nodeId() == preferred ? 0 : 1)
            .thenComparing(Comparator.<Member>comparingInt(n -> n.settings().candidatePriority()).reversed())
            .thenComparing(Comparator.comparingInt(this::tli).thenComparing(this::lsn).reversed())
            .thenComparingInt(Member::nodeId))
        .orElse(null);
    if (chosen == null) return Optional.empty();
    boolean behind = tli(chosen) < tli(advanced) || lsn(chosen).compareTo(lsn(advanced)) < 0;
    String why = "chose " + chosen.name() + " (priority " + chosen.settings().candidatePriority() + ", "
        + tli(chosen) + ": " + lsn(chosen) + ")" + (preferred != null && chosen.nodeId() == preferred
        ? " as the operator asked" : "") + " among " + reporting.size() + " reporting node(s)";
    if (behind) {
      if (!d.healthy(advanced.nodeId())) return Optional.empty();
      return Optional.of(new Decision("E3-fast-forward", why + "; it first fetches WAL up to " + lsn(advanced)
          + " from " + advanced.name(), goals(chosen, FAST_FORWARD), false, guaranteed ? 0L : risk, null,
          chosen.nodeId()));
    }
    return Optional.of(new Decision("E3-candidate-chosen", why, goals(chosen, PREPARE_PROMOTION), false,
        guaranteed ? 0L : risk, null, chosen.nodeId()));
  }

  private static final Set<NodeState> NO_UPSTREAM_REPORTS = EnumSet.of(REPORT_LSN, PREPARE_PROMOTION, FAST_FORWARD,
      JOIN_SECONDARY);
  private static final Set<NodeState> NOT_FOLLOWING_GOALS = EnumSet.of(REPORT_LSN, PREPARE_PROMOTION, FAST_FORWARD,
      STOP_REPLICATION, JOIN_SECONDARY, DEMOTED);

  /**
   * Its WAL cannot have moved since it reported: it reported a state with no upstream after executing
   * every goal that told it to follow someone (a keeper cut from the controller still executes the last
   * goal it received: one told secondary after its report may be streaming, and acknowledging, since —
   * simulation seed 6632), and its goal now follows no one.
   */
  private boolean frozenForElection(Member n) {
    NodeReport r = obs.of(n.nodeId()).report();
    return r != null && NO_UPSTREAM_REPORTS.contains(r.state()) && NOT_FOLLOWING_GOALS.contains(n.goalState())
        && r.executed().compareTo(n.lastFollowingGoal()) >= 0 && positionKnown(n);
  }

  /**
   * The node's last report carries a WAL position read from a running PostgreSQL. A keeper that has
   * just restarted, or whose server is starting or hung, reports no facts (timeline 0, LSN 0/0): that is
   * no position, and an election that took it for one could promote a node missing acknowledged writes.
   */
  private boolean positionKnown(Member n) {
    NodeReport r = obs.of(n.nodeId()).report();
    return r != null && r.pg() == io.pgwarden.model.PgStatus.RUNNING && r.timeline() > 0;
  }

  /** Nodes that take part in an election and are asked to report their LSN (pg_auto_failover §6.3). */
  private boolean joinsElection(Member n) {
    NodeState g = n.goalState();
    NodeState r = rep(n);
    if (r == null) return false;
    boolean standby = EnumSet.of(SECONDARY, CATCHINGUP).contains(g) && EnumSet.of(SECONDARY, CATCHINGUP).contains(r);
    boolean maint = r == MAINTENANCE && g == CATCHINGUP;
    boolean oldPrimary = (g == DRAINING || g == DEMOTED) && r == g || (g == CATCHINGUP && r == DEMOTED);
    // told to follow the primary that failed, still stopped in join_secondary: as a quorum member it may
    // hold commits no other node has, and an election that waits for its position must ask for it
    boolean waitingForAPrimaryThatFailed = (g == JOIN_SECONDARY || g == SECONDARY) && r == JOIN_SECONDARY;
    return standby || maint || oldPrimary || waitingForAPrimaryThatFailed;
  }

  // ---------------------------------------------------------------- S: rules for the other nodes

  private Optional<Decision> standbyRules(Member n, Member w) {
    NodeState r = rep(n);
    if (r != null && r != n.goalState()) return awayFromItsGoal(n, r, w);
    if (r == null) return Optional.empty();
    Member dm = demoting(n);
    switch (r) {
      case REPORT_LSN -> {
        if (w != null && w.nodeId() != n.nodeId() && (current(w, WAIT_PRIMARY) || current(w, PRIMARY))
            && d.healthy(w.nodeId())) {
          return decision("S1-report-lsn-to-secondary", n.name() + " follows primary " + w.name(), false,
              goals(n, SECONDARY));
        }
      }
      case FAST_FORWARD -> {
        return decision("S3-fast-forward-done", n.name() + " caught up with the most advanced standby", false,
            goals(n, PREPARE_PROMOTION));
      }
      case WAIT_STANDBY -> {
        if (w != null && current(w, WAIT_PRIMARY)) {
          return decision("S5-wait-standby-to-catchingup", n.name() + " can be cloned from " + w.name(), false,
              goals(n, CATCHINGUP));
        }
        if (w != null && current(w, PRIMARY)) {
          return decision("S6-wait-standby-to-catchingup", n.name() + " can be cloned from " + w.name(), false,
              goals(n, CATCHINGUP));
        }
      }
      case CATCHINGUP -> {
        if (w != null && (current(w, WAIT_PRIMARY) || current(w, PRIMARY)) && d.healthy(n.nodeId())
            && streamsFrom(n, w) && tli(n) == tli(w) && lsn(w).minus(lsn(n)) <= t.syncLagBytes()) {
          return decision("S8-catchingup-to-secondary", n.name() + " streams from " + w.name() + " within "
              + t.syncLagBytes() + " bytes", false, goals(n, SECONDARY));
        }
      }
      case WAIT_MAINTENANCE -> {
        if (w != null && (current(w, WAIT_PRIMARY) || w.goalState() != WAIT_PRIMARY)) {
          return decision("S10-wait-maintenance-done", "primary " + w.name() + " no longer waits for "
              + n.name(), false, goals(n, MAINTENANCE));
        }
      }
      case PREPARE_PROMOTION -> {
        if (!writesMayMoveTo(n)) return Optional.empty();
        if (dm != null && current(dm, PREPARE_MAINTENANCE)) {
          return decision("S12-promote-for-maintenance", dm.name() + " is stopped for maintenance: "
              + n.name() + " may promote", false, goals(n, STOP_REPLICATION));
        }
        if (dm != null && dm.goalState() != MAINTENANCE && dm.goalState() != PREPARE_MAINTENANCE) {
          TreeMap<Integer, NodeState> g = goals(n, STOP_REPLICATION);
          if (dm.goalState() != DEMOTED) g.put(dm.nodeId(), DEMOTE_TIMEOUT);
          return decision("S14-promote", "the write lease of " + dm.name() + " has ended: " + n.name()
              + " may promote", false, g);
        }
        if (dm == null && w == null) {
          return decision("S15-promote-no-primary", "no node holds a write lease: " + n.name() + " may promote",
              false, goals(n, STOP_REPLICATION));
        }
      }
      case STOP_REPLICATION -> {
        if (w != null && w.nodeId() != n.nodeId()) return Optional.empty(); // never beside another writable goal
        if (dm != null && current(dm, PREPARE_MAINTENANCE)) {
          TreeMap<Integer, NodeState> g = goals(n, WAIT_PRIMARY);
          g.put(dm.nodeId(), MAINTENANCE);
          return decision("S16-maintenance-handover", n.name() + " is promoted; " + dm.name()
              + " enters maintenance", true, g);
        }
        if (!writesMayMoveTo(n)) return Optional.empty();
        if (dm != null) {
          TreeMap<Integer, NodeState> g = goals(n, WAIT_PRIMARY);
          if (dm.goalState() != MAINTENANCE) g.put(dm.nodeId(), DEMOTED);
          return decision("S17-open-writes", n.name() + " is promoted and no other node can write: writes open",
              true, g);
        }
        if (w != null) return Optional.empty(); // another node has a writable goal: never two writers
        return decision("S17-open-writes-no-primary", n.name() + " is promoted: writes open", true,
            goals(n, WAIT_PRIMARY));
      }
      case DRAINING, DEMOTE_TIMEOUT -> {
        // An old primary still told to drain while another node already writes: the decision that would
        // have demoted it was lost with a journal tail (or it was away when writes moved). Demoted is what
        // S17 gives it; without this it would wait in draining or demote_timeout for good.
        if (n.goalState() == r && w != null && w.nodeId() != n.nodeId() && d.healthy(w.nodeId())
            && (current(w, WAIT_PRIMARY) || current(w, PRIMARY))) {
          return decision("S18-demotion-done", n.name() + " stopped writing and " + w.name() + " writes: "
              + n.name() + " is demoted", false, goals(n, DEMOTED));
        }
      }
      case DEMOTED -> {
        if (w != null && d.healthy(w.nodeId()) && (current(w, WAIT_PRIMARY) || current(w, PRIMARY)
            || rep(w) == WAIT_PRIMARY && w.goalState() == PRIMARY)) {
          return decision("S19-demoted-to-catchingup", n.name() + " rejoins as a standby of " + w.name(), false,
              goals(n, CATCHINGUP));
        }
      }
      case JOIN_SECONDARY -> {
        if (w != null && (rep(w) == WAIT_PRIMARY || current(w, PRIMARY))) {
          return decision("S20-join-secondary-done", n.name() + " follows the new primary " + w.name(), false,
              goals(n, SECONDARY));
        }
      }
      default -> {
        return Optional.empty();
      }
    }
    return Optional.empty();
  }

  /**
   * A node whose goal has no path from the state it reports, beside an established primary or in an
   * election: a restamp after a lost journal tail (or an operator's action) gave it a goal meant for the
   * state it was in before. A standby told to stop for an election (join_secondary) or to step down
   * (demoted) stays a standby: secondary if it streams from the primary, else it follows it. An old
   * primary back up and still writable when asked for its LSN (report_lsn) first drains, as after F2.
   */
  private Optional<Decision> awayFromItsGoal(Member n, NodeState r, Member w) {
    NodeState g = n.goalState();
    if ((r == SECONDARY || r == CATCHINGUP) && (g == JOIN_SECONDARY || g == DEMOTED)) {
      if (w == null || w.nodeId() == n.nodeId() || !(rep(w) == WAIT_PRIMARY || current(w, PRIMARY))) {
        return Optional.empty();
      }
      boolean follows = r == SECONDARY && streamsFrom(n, w);
      return decision("S21-goal-without-a-path", n.name() + " is a " + r + (follows ? " of " : ", not yet of ")
          + "the primary " + w.name() + ": " + g + " no longer applies", false,
          goals(n, follows ? SECONDARY : CATCHINGUP));
    }
    if (r.canTakeWrites() && g == REPORT_LSN) {
      return decision("S21-goal-without-a-path", n.name() + " reports " + r + " but is asked for its LSN: it"
          + " drains first", false, goals(n, DRAINING));
    }
    return Optional.empty();
  }

  // ---------------------------------------------------------------- leases and permits

  /**
   * Writes may move to {@code n} when no other node can still hold a write lease: its last grant is
   * older than L·(1+ρ)+δ on our clock (a lease granted by a previous incarnation is covered by counting
   * from this one's start), or its keeper reported PostgreSQL stopped after executing a goal that is
   * not writable.
   */
  boolean writesMayMoveTo(Member n) {
    return writesMayMoveTo(n.nodeId());
  }

  public boolean writesMayMoveTo(int nodeId) {
    if (KnownBugs.on(KnownBugs.Bug.REOPEN_WRITES_WITHOUT_LEASE_WAIT)) return true;
    boolean ok = true;
    for (Member m : f.members().values()) {
      if (m.nodeId() == nodeId || stoppedUnderNonWritableGoal(m)) continue;
      ok &= leaseFree(leaseFreeAt(m.nodeId()));
    }
    // a node removed by force may still hold a lease it was granted before
    for (int id : obs.nodes().keySet()) {
      if (id != nodeId && !f.members().containsKey(id)) ok &= leaseFree(leaseFreeAt(id));
    }
    return ok;
  }

  private boolean leaseFree(long freeAt) {
    if (now >= freeAt) return true;
    wake(freeAt);
    return false;
  }

  /**
   * Its keeper executed a goal that is not writable (or a newer one) and reports PostgreSQL down, or
   * running in recovery (an old primary restarted as a standby for an election cannot write).
   */
  private boolean stoppedUnderNonWritableGoal(Member m) {
    NodeReport r = obs.of(m.nodeId()).report();
    return r != null && !m.goalState().canTakeWrites() && (!r.pg().alive() || r.inRecovery())
        && r.executed().compareTo(m.goal().stamp()) >= 0;
  }

  private long leaseFreeAt(int nodeId) {
    Long grant = obs.of(nodeId).lastGrantMono();
    long from = grant == null ? obs.bootMono() : Math.max(grant, obs.bootMono());
    return from + t.leaseCertainlyExpiredAfterMs();
  }

  private long permitFreeAt(Member c) {
    Long grant = obs.of(c.nodeId()).permitGrantMono();
    long from = grant == null ? obs.bootMono() : grant;
    return from + t.permitMs() + t.permitMs() * t.clockRatePpm() / 1_000_000 + t.leaseMarginMs();
  }

  // ---------------------------------------------------------------- synchronous quorum

  /** The quorum the controller wants {@code p} to apply (pg_auto_failover §6.6). */
  SyncConfig desired(Member p) {
    List<Integer> ordered = desiredOrder(p);
    if (ordered.isEmpty() || p.goalState() == WAIT_PRIMARY || p.goalState() == SINGLE) {
      return new SyncConfig(p.nodeId(), 0, new java.util.TreeSet<>());
    }
    int nss = f.settings().numberSyncStandbys();
    return new SyncConfig(p.nodeId(), Math.max(nss, 1), new java.util.TreeSet<>(ordered));
  }

  String desiredNames(Member p) {
    SyncConfig c = desired(p);
    return SyncConfig.standbyNames(c.required(), desiredOrder(p));
  }

  public String desiredNames(int nodeId) {
    return f.member(nodeId).map(this::desiredNames).orElse("");
  }

  private static final Comparator<Member> QUORUM_ORDER = Comparator.<Member>comparingInt(
      n -> n.settings().candidatePriority()).reversed().thenComparingInt(Member::nodeId);

  private List<Integer> desiredOrder(Member p) {
    int nss = f.settings().numberSyncStandbys();
    List<Member> in = new ArrayList<>(active.size());
    for (Member n : active) {
      if (n.nodeId() == p.nodeId() || !n.settings().replicationQuorum()) continue;
      NodeState g = n.goalState();
      if (nss == 0 ? g == SECONDARY : g != MAINTENANCE && g != WAIT_STANDBY && g != NodeState.INIT
          && !stillCloning(n)) {
        in.add(n);
      }
    }
    in.sort(QUORUM_ORDER);
    List<Integer> out = new ArrayList<>(in.size());
    for (Member n : in) out.add(n.nodeId());
    return Collections.unmodifiableList(out);
  }

  /**
   * Told to clone (catchingup) and not yet reported past wait_standby: it has no copy of the data, so it
   * cannot acknowledge a commit. In the quorum it would only be a member every election must hear from,
   * and it can answer none until some primary exists to clone from (simulation seed 346). It joins the
   * quorum once it reports catchingup (P2-sync-drift); a node whose state is unknown stays in.
   */
  private boolean stillCloning(Member n) {
    NodeState r = rep(n);
    return n.goalState() == CATCHINGUP && (r == WAIT_STANDBY || r == NodeState.INIT);
  }

  /**
   * Every quorum {@code p} may be applying: the one it was last confirmed with, the one it last
   * reported, and the one it was told to apply. While they differ the change is not confirmed, and an
   * election must satisfy all of them.
   */
  Set<SyncConfig> possibleConfigs(Member p) {
    Set<SyncConfig> s = new LinkedHashSet<>();
    SyncConfig conf = f.confirmedQuorum();
    s.add(conf.primaryId() == p.nodeId() ? conf : new SyncConfig(p.nodeId(), 0, new java.util.TreeSet<>()));
    NodeReport r = obs.of(p.nodeId()).report();
    // only a report read from a running server says which quorum is in effect (a stopped one reports '')
    if (r != null && r.state().canTakeWrites() && r.pg() == io.pgwarden.model.PgStatus.RUNNING) {
      s.add(SyncConfig.parse(p.nodeId(), r.syncStandbyNames()));
    }
    if (p.goalState().canTakeWrites()) s.add(desired(p));
    return s;
  }

  /** The nodes in {@code reported} include, for every quorum, one that has every commit it acknowledged. */
  static boolean covers(Set<SyncConfig> configs, Set<Integer> reported) {
    for (SyncConfig c : configs) {
      if (!c.synchronous()) return false;
      long n = c.members().stream().filter(reported::contains).count();
      if (n < c.mustReport()) return false;
    }
    return true;
  }

  // ---------------------------------------------------------------- helpers

  private Member writer() {
    for (Member m : active) {
      if (m.goalState().canTakeWrites()) return m;
    }
    return null;
  }

  /** The old primary on its way out, as seen from {@code n}. */
  private Member demoting(Member n) {
    for (Member m : f.members().values()) {
      if (m.nodeId() != n.nodeId() && DEMOTING.contains(m.goalState())) return m;
    }
    if (f.failover() != null && f.failover().from() != n.nodeId()) {
      Member m = f.members().get(f.failover().from());
      if (m != null && m.goalState() != DEMOTED && !m.goalState().canTakeWrites()) return m;
    }
    return null;
  }

  private boolean streamsFrom(Member n, Member w) {
    NodeReport r = d.freshReport(n.nodeId());
    return r != null && r.walReceiver() != null && r.walReceiver().streaming() && r.walReceiver().upstreamNodeId() != null
        && r.walReceiver().upstreamNodeId() == w.nodeId() && r.walReceiver().lastMsgAgeMs() != null
        && (r.walReceiver().lastMsgAgeMs() <= t.evidenceFreshMs() || KnownBugs.on(KnownBugs.Bug.TRUST_STALE_STREAMING));
  }

  private NodeState rep(Member m) {
    return d.reported(m.nodeId());
  }

  private boolean current(Member m, NodeState s) {
    return m.goalState() == s && rep(m) == s;
  }

  private List<Member> others(Member p) {
    List<Member> out = new ArrayList<>(active.size());
    for (Member m : active) {
      if (m.nodeId() != p.nodeId()) out.add(m);
    }
    return out;
  }

  private Lsn lsn(Member m) {
    NodeReport r = obs.of(m.nodeId()).report();
    return r == null ? Lsn.ZERO : r.lsn();
  }

  private int tli(Member m) {
    NodeReport r = obs.of(m.nodeId()).report();
    return r == null ? 0 : r.timeline();
  }

  private void wake(long at) {
    if (at > now && (wakeAt == 0 || at < wakeAt)) wakeAt = at;
  }

  private static TreeMap<Integer, NodeState> goals(Member m, NodeState s) {
    TreeMap<Integer, NodeState> g = new TreeMap<>();
    g.put(m.nodeId(), s);
    return g;
  }

  private static Optional<Decision> decision(String rule, String reason, boolean newTerm,
      SortedMap<Integer, NodeState> goals) {
    return Optional.of(new Decision(rule, reason, goals, newTerm, null, null, null));
  }
}
