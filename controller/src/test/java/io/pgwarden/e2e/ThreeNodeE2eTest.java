package io.pgwarden.e2e;

import static io.pgwarden.e2e.E2e.WAIT;
import static io.pgwarden.e2e.E2e.say;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgwarden.api.Dto;
import io.pgwarden.lab.Failover;
import io.pgwarden.lab.Lab;
import io.pgwarden.lab.Writer;
import io.pgwarden.model.NodeState;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Three nodes, real processes: the election after the primary's host is killed picks the standby with
 * the highest candidate priority, or among equal priorities the most advanced one, and the other
 * standby follows the new primary.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ThreeNodeE2eTest {
  Lab lab;

  @BeforeAll
  void setUp() throws Exception {
    lab = E2e.lab("three", E2e.FAST, 50, 90, 50);
  }

  @AfterAll
  void tearDown() {
    if (lab != null) {
      E2e.trace(lab, "three-node");
      lab.close();
    }
  }

  @Test
  @Order(1)
  void theElectionPicksTheHighestCandidatePriority_andTheOtherStandbyFollows() throws Exception {
    assertEquals(lab.node("node1"), lab.awaitSettled(WAIT));
    long wall = System.currentTimeMillis();
    Failover.Result r = Failover.run(lab, Failover.Scenario.HOST_KILL, 1, E2e::say);
    E2e.assertSafe(r);
    assertEquals(0, r.lateAcks());
    assertEquals("node2", r.newPrimary(), "priority 90 wins over 50");
    List<String> rules = E2e.rulesSince(lab, wall);
    assertTrue(rules.contains("F2-failover-start-election") && rules.contains("E3-candidate-chosen"), rules.toString());
    Lab.Node p = lab.node("node2");
    Lab.await("node1 and node3 stream from node2", WAIT, () -> Lab.streamingFrom(p).containsAll(List.of(
        Lab.applicationName(lab.node("node1")), Lab.applicationName(lab.node("node3")))));
    say("election by priority: " + rules);
  }

  @Test
  @Order(2)
  void amongEqualPrioritiesTheMostAdvancedStandbyWins() throws Exception {
    lab.api().perform(lab.formation, new Dto.OperatorRequest("set-candidate-priority", "node2", null, null, 50L,
        "e2e", null));
    Lab.Node primary = lab.awaitSettled(WAIT);
    assertEquals(lab.node("node2"), primary);
    Lab.Node behind = lab.node("node3");
    Lab.Node ahead = lab.node("node1");
    Writer w = E2e.writer(lab, 20_000_000L);
    // node3's WAL receiver freezes: the primary's commits go on with node1's acknowledgement alone
    List<Long> receiver = walReceiver(behind);
    assertEquals(1, receiver.size(), "node3's walreceiver");
    Lab.signal("STOP", receiver);
    int before = w.acks().size();
    Lab.await("rows written while node3 lags", WAIT, () -> w.acks().size() > before + 50);
    long wall = System.currentTimeMillis();
    long t0 = System.nanoTime();
    lab.killHost(primary);
    Lab.signal("KILL", receiver); // it would resume from where it froze; the primary is gone anyway
    assertEquals(ahead, lab.awaitNewWriter(primary, WAIT), "the most advanced standby wins among equal priorities");
    Lab.await("writes on " + ahead.name, WAIT, () -> w.firstAckAfter(t0, primary.pgport) != null);
    Lab.await(behind.name + " follows " + ahead.name, WAIT, () -> behind.reached(NodeState.SECONDARY)
        && Lab.streamingFrom(ahead).contains(Lab.applicationName(behind)));
    primary.startKeeper();
    lab.awaitSettled(WAIT);
    List<String> rules = E2e.rulesSince(lab, wall);
    say("election among equals: " + rules);
    assertTrue(rules.contains("E3-candidate-chosen"), rules.toString());
    E2e.check(lab, w);
  }

  /** The pid of {@code n}'s walreceiver process, found by its title among the postmaster's children. */
  static List<Long> walReceiver(Lab.Node n) {
    List<Long> out = new ArrayList<>();
    for (long pid : n.postgresPids()) {
      try {
        String cmd = java.nio.file.Files.readString(java.nio.file.Path.of("/proc", Long.toString(pid), "cmdline"));
        if (cmd.contains("walreceiver")) out.add(pid);
      } catch (java.io.IOException e) {
        // gone
      }
    }
    return out;
  }
}
