package io.pgwarden.e2e;

import static io.pgwarden.e2e.E2e.WAIT;
import static io.pgwarden.e2e.E2e.say;
import static io.pgwarden.e2e.E2e.secs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgwarden.api.Dto;
import io.pgwarden.lab.Failover;
import io.pgwarden.lab.Lab;
import io.pgwarden.lab.Writer;
import io.pgwarden.model.NodeState;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Two nodes, every part a real process (controller and keepers are child JVMs, PostgreSQL is real), faults
 * injected for real by PID. Each test writes through the multi-host URL and checks at the end that every
 * row it saw acknowledged is on every node; every failover also runs two adversaries straight on the old
 * primary's port (synchronous_commit local and on) that count what it acknowledged after the new primary's
 * first write. The tests run in order on one formation; each starts from a settled primary/secondary.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TwoNodeE2eTest {
  Lab lab;

  @BeforeAll
  void setUp() throws Exception {
    lab = E2e.lab("two", E2e.FAST, null, null);
  }

  @AfterAll
  void tearDown() {
    if (lab != null) {
      E2e.trace(lab, "two-node");
      lab.close();
    }
  }

  Lab.Node other(Lab.Node n) {
    return lab.nodes().stream().filter(x -> x != n).findFirst().orElseThrow();
  }

  @Test
  @Order(1)
  void theStory_primaryHostKilled_standbyPromoted_oldPrimaryRewoundAndBack() throws Exception {
    Failover.Result r = Failover.run(lab, Failover.Scenario.HOST_KILL, 1, E2e::say);
    E2e.assertSafe(r);
    assertEquals(0, r.lateAcks(), "the old primary acknowledged local commits after the new one's first");
    assertNotEquals(r.oldPrimary(), r.newPrimary());
    assertNotNull(r.rejoinMs(), "the old primary streams again");
    assertTrue(List.of("pg_rewind", "pg_basebackup").contains(r.rejoinMethod()), r.rejoinMethod());
    String audit = lab.cli("audit", "--dir", lab.controllerDir.toString(), "--formation", lab.formation);
    assertTrue(audit.contains("automatic-failover of " + r.oldPrimary()), audit);
  }

  @Test
  @Order(2)
  void postgresAloneCrashesOnThePrimaryWhileItsKeeperLives() throws Exception {
    Failover.Result r = Failover.run(lab, Failover.Scenario.PG_CRASH, 2, E2e::say);
    E2e.assertSafe(r);
    assertEquals(0, r.lateAcks());
    say("pg-crash: " + (r.note() != null ? r.note() : "failover to " + r.newPrimary()) + "; writes back after "
        + secs(r.unavailableMs()));
  }

  @Test
  @Order(3)
  void switchoverAndBack() throws Exception {
    Failover.Result there = Failover.run(lab, Failover.Scenario.SWITCHOVER, 3, E2e::say);
    E2e.assertSafe(there);
    assertEquals(0, there.lateAcks());
    Failover.Result back = Failover.run(lab, Failover.Scenario.SWITCHOVER, 4, E2e::say);
    E2e.assertSafe(back);
    assertEquals(0, back.lateAcks());
    assertEquals(there.newPrimary(), back.oldPrimary());
    assertEquals(there.oldPrimary(), back.newPrimary());
  }

  @Test
  @Order(4)
  void aSecondaryDiesAndReturns_thePrimaryGoesToWaitPrimaryAndBack() throws Exception {
    Lab.Node p = lab.awaitSettled(WAIT);
    Lab.Node s = other(p);
    Writer w = E2e.writer(lab, 40_000_000L);
    long wall = System.currentTimeMillis();
    long t0 = System.nanoTime();
    lab.killHost(s);
    Lab.await(p.name + " wait_primary", WAIT, () -> p.reached(NodeState.WAIT_PRIMARY));
    long waitPrimary = (System.nanoTime() - t0) / 1_000_000;
    long acksBefore = w.acks().size();
    Lab.await("writes go on without the standby (" + w.acks().size() + " acks, " + w.failures() + " failures, last: "
        + w.lastError() + ")", java.time.Duration.ofSeconds(10), () -> w.acks().size() > acksBefore + 10);
    long gap = w.longestGapMs(t0, System.nanoTime());
    say("secondary host killed: primary in wait_primary after " + secs(waitPrimary) + "; longest gap between"
        + " acknowledgements " + secs(gap));
    s.startKeeper();
    Lab.await("settled again", WAIT, () -> p.reached(NodeState.PRIMARY) && s.reached(NodeState.SECONDARY));
    List<String> rules = E2e.rulesSince(lab, wall);
    assertTrue(rules.contains("P2-primary-to-wait-primary") && rules.contains("P2-wait-primary-to-primary"),
        rules.toString());
    assertEquals(0, E2e.count(rules, "F"), "no failover: " + rules);
    E2e.check(lab, w);
  }

  @Test
  @Order(5)
  void maintenanceOnTheSecondaryThenOnThePrimary() throws Exception {
    Lab.Node p = lab.awaitSettled(WAIT);
    Lab.Node s = other(p);
    Writer w = E2e.writer(lab, 50_000_000L);
    operator("maintenance-on", s.name, null);
    Lab.await(s.name + " in maintenance, " + p.name + " wait_primary", WAIT,
        () -> s.reached(NodeState.MAINTENANCE) && p.reached(NodeState.WAIT_PRIMARY));
    long acks = w.acks().size();
    Lab.sleep(500);
    assertTrue(w.acks().size() > acks, "writes go on while the secondary is in maintenance");
    operator("maintenance-off", s.name, null);
    Lab.await("settled", WAIT, () -> p.reached(NodeState.PRIMARY) && s.reached(NodeState.SECONDARY));
    say("maintenance on the secondary: entered and left, primary back to primary");

    long t0 = System.nanoTime();
    operator("maintenance-on", p.name, true);
    Lab.await(p.name + " in maintenance, " + s.name + " writable", WAIT,
        () -> p.reached(NodeState.MAINTENANCE) && lab.writer() == s);
    Writer.Ack first = w.firstAckAfter(t0, p.pgport);
    Lab.await("writes on " + s.name, WAIT, () -> w.firstAckAfter(t0, p.pgport) != null);
    say("maintenance on the primary: " + s.name + " took writes after "
        + secs((w.firstAckAfter(t0, p.pgport).nanos() - t0) / 1_000_000));
    operator("maintenance-off", p.name, null);
    Lab.await("settled", WAIT, () -> s.reached(NodeState.PRIMARY) && p.reached(NodeState.SECONDARY));
    assertTrue(first == null || first.port() == s.pgport);
    E2e.check(lab, w);
  }

  private void operator(String kind, String node, Boolean allowFailover) {
    Dto.Operation op = lab.api().perform(lab.formation, new Dto.OperatorRequest(kind, node, allowFailover, null,
        null, "e2e", null));
    say(kind + " " + node + ": " + op);
  }

  @Test
  @Order(6)
  void stallEnvelope_keeperAloneStopped_wholeNodeShortly_wholeNodeLong() throws Exception {
    long detection = E2e.FAST.silenceMs();
    // 1. the primary's keeper alone stopped for three detection times: PostgreSQL answers the probes
    Lab.Node p = lab.awaitSettled(WAIT);
    Writer w = E2e.writer(lab, 60_000_000L);
    long wall = System.currentTimeMillis();
    long t0 = System.nanoTime();
    Lab.signal("STOP", List.of(p.keeper().pid()));
    Lab.sleep(3 * detection);
    Lab.signal("CONT", List.of(p.keeper().pid()));
    Lab.await("settled", WAIT, () -> p.reached(NodeState.PRIMARY) && lab.writer() == p);
    List<String> rules = E2e.rulesSince(lab, wall);
    assertEquals(0, E2e.count(rules, "F"), "no failover while only the keeper was stopped: " + rules);
    Lab.sleep(1_000);
    say(String.format("keeper alone stopped %d ms: no failover; longest gap between acknowledgements %s; %d"
        + " failed inserts (on SIGCONT the keeper finds its lease over and fences, then restarts under a new one)",
        3 * detection, secs(w.longestGapMs(t0, System.nanoTime())), w.failuresAfter(t0)));

    // 2. the whole node stopped for half the detection time
    wall = System.currentTimeMillis();
    t0 = System.nanoTime();
    List<Long> pids = p.hostPids();
    Lab.signal("STOP", pids);
    Lab.sleep(detection / 2);
    Lab.signal("CONT", pids);
    Lab.sleep(2 * detection);
    rules = E2e.rulesSince(lab, wall);
    assertEquals(0, E2e.count(rules, "F"), "no failover after a stall shorter than detection: " + rules);
    assertEquals(p, lab.writer());
    say(String.format("whole node stopped %d ms: no failover; longest gap between acknowledgements %s",
        detection / 2, secs(w.longestGapMs(t0, System.nanoTime()))));
    E2e.check(lab, w);

    // 3. the whole node stopped beyond the detection time: exactly one failover
    wall = System.currentTimeMillis();
    Failover.Result r = Failover.run(lab, Failover.Scenario.HOST_STALL, 6, E2e::say);
    E2e.assertSafe(r);
    rules = E2e.rulesSince(lab, wall);
    assertEquals(1, E2e.count(rules, "F"), "exactly one failover: " + rules);
    say("whole node stopped past detection: one failover; after SIGCONT the old primary acknowledged "
        + r.lateAcks() + " synchronous_commit=local commit(s) after the new primary's first write (the SIGCONT"
        + " race: its backends run before its keeper fences), " + r.lateSyncAcks() + " synchronous ones");
  }

  @Test
  @Order(7)
  void theControllerKilledDuringAFailoverAndRestarted_theFailoverCompletes_noTermReused() throws Exception {
    Lab.Node old = lab.awaitSettled(WAIT);
    Writer w = E2e.writer(lab, 70_000_000L);
    long wall = System.currentTimeMillis();
    lab.killHost(old);
    Lab.await("the failover decided", WAIT, () -> E2e.count(E2e.rulesSince(lab, wall), "F1") == 1);
    List<Dto.EventView> before = E2e.decisions(lab);
    List<String> rulesBefore = E2e.rulesSince(lab, wall);
    Lab.signal("KILL", List.of(lab.controller().pid()));
    long termBefore = before.stream().mapToLong(e -> e.event().path("stamp").path("term").asLong()).max().orElse(0);
    say("controller SIGKILLed after " + rulesBefore + " (term " + termBefore + ")");
    Lab.sleep(500);
    lab.startController();
    Lab.Node now = lab.awaitNewWriter(old, WAIT);
    Lab.await("writes on " + now.name, WAIT, () -> w.firstAckAfter(0, old.pgport) != null
        && w.acks().get(w.acks().size() - 1).port() == now.pgport);
    old.startKeeper();
    lab.awaitSettled(WAIT);
    List<Dto.EventView> all = E2e.decisions(lab);
    long prevTerm = 0;
    long prevSeq = 0;
    for (Dto.EventView e : all) {
      long term = e.event().path("stamp").path("term").asLong();
      long seq = e.event().path("stamp").path("seq").asLong();
      assertTrue(term > prevTerm || term == prevTerm && seq > prevSeq, "stamps only grow: " + e.event());
      prevTerm = term;
      prevSeq = seq;
    }
    for (Dto.EventView e : all.subList(before.size(), all.size())) {
      assertTrue(e.event().path("stamp").path("term").asLong() > termBefore,
          "a decision after the restart reuses term " + termBefore + ": " + e.event());
    }
    say("failover completed across the controller restart: " + E2e.rulesSince(lab, wall));
    E2e.check(lab, w);
  }

  @Test
  @Order(8)
  void theControllerDownForTwoMinutes_noWriteInterrupted_nothingFenced_noGoalChanges() throws Exception {
    Lab.Node p = lab.awaitSettled(WAIT);
    Writer w = E2e.writer(lab, 80_000_000L);
    long wall = System.currentTimeMillis();
    long t0 = System.nanoTime();
    Lab.signal("KILL", List.of(lab.controller().pid()));
    Lab.sleep(120_000);
    long down = (System.nanoTime() - t0) / 1_000_000;
    lab.startController();
    long restarted = System.currentTimeMillis();
    Lab.sleep(5_000);
    assertEquals(0, w.failuresAfter(t0), "failed inserts while the controller was down: " + w.lastError());
    long gap = w.longestGapMs(t0, System.nanoTime());
    assertTrue(gap < 1_000, "longest gap between acknowledgements " + gap + " ms");
    List<String> rules = E2e.rulesSince(lab, wall);
    assertEquals(List.of(), rules, "no goal changed");
    long fenced = lab.api().events(lab.formation, null, wall, 1000).events().stream()
        .filter(e -> e.type().equals("node.fenced")).count();
    assertEquals(0, fenced, "nothing fenced");
    assertEquals(p, lab.writer());
    say(String.format("controller down %s: %d writes acknowledged, none failed, longest gap %s; no decision and"
        + " no fence in the %s after its restart", secs(down), w.acks().size(), secs(gap),
        secs(System.currentTimeMillis() - restarted)));
    E2e.check(lab, w);
  }
}
