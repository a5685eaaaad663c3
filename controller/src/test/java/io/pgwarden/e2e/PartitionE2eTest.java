package io.pgwarden.e2e;

import static io.pgwarden.e2e.E2e.WAIT;
import static io.pgwarden.e2e.E2e.say;
import static io.pgwarden.e2e.E2e.secs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgwarden.lab.Lab;
import io.pgwarden.lab.Net;
import io.pgwarden.lab.Writer;
import java.nio.file.Files;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Real partitions: the controller and each node (keeper and PostgreSQL) in a network namespace of its own
 * with its own address, every pair of hosts joined by its own veth pair, links cut with
 * {@code ip link set ... down} (see {@link Net}). The tester (this JVM: the client writer and the
 * adversaries) reaches every host throughout, as an application tier would.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PartitionE2eTest {
  Lab lab;
  Net net;

  @BeforeAll
  void setUp() throws Exception {
    Assumptions.assumeTrue(Net.available() || System.getenv("CI") != null, "network namespaces need root and iproute2");
    // the default veto: the standbys' evidence keeps a primary that only the controller lost for 30 s
    lab = E2e.lab("part", E2e.FAST.withVetoMaxMs(30_000), true, 50, 50, 50);
    net = lab.net();
  }

  @AfterAll
  void tearDown() {
    if (lab != null) {
      E2e.trace(lab, "partitions");
      lab.close();
    }
  }

  List<Lab.Node> others(Lab.Node p) {
    return lab.nodes().stream().filter(n -> n != p).toList();
  }

  @Test
  @Order(1)
  void theControllerCutFromThePrimaryOnly_noFailover() throws Exception {
    Lab.Node p = lab.awaitSettled(WAIT);
    Writer w = E2e.writer(lab, 10_000_000L);
    long wall = System.currentTimeMillis();
    long t0 = System.nanoTime();
    long cutMs = 3 * E2e.FAST.silenceMs();
    net.cut("controller", p.name);
    Lab.sleep(cutMs);
    net.heal("controller", p.name);
    Lab.sleep(2 * E2e.FAST.silenceMs());
    List<String> rules = E2e.rulesSince(lab, wall);
    assertEquals(0, E2e.count(rules, "F"), "no failover: " + rules);
    assertEquals(p, lab.writer());
    say(String.format("controller cut from the primary for %s: no failover; %d failed inserts, longest gap %s",
        secs(cutMs), w.failuresAfter(t0), secs(w.longestGapMs(t0, System.nanoTime()))));
    assertEquals(0, w.failuresAfter(t0), "writes go on under the failsafe: " + w.lastError());
    E2e.check(lab, w);
  }

  @Test
  @Order(2)
  void thePrimaryCutFromEveryone_failover_theOldPrimaryIsFencedBeforeTheNewOneTakesWrites() throws Exception {
    Lab.Node p = lab.awaitSettled(WAIT);
    Writer w = E2e.writer(lab, 20_000_000L);
    Writer local = Writer.adversary(p, "local", 20, 1_000_000_000_000L + 20_000_000L).start();
    Writer sync = Writer.adversary(p, "on", 20, 2_000_000_000_000L + 20_000_000L).start();
    Lab.await("the adversaries write", WAIT, () -> !local.acks().isEmpty() && !sync.acks().isEmpty());
    long wall = System.currentTimeMillis();
    long t0 = System.nanoTime();
    List<String[]> cuts = new ArrayList<>();
    cuts.add(new String[] {"controller", p.name});
    for (Lab.Node o : others(p)) cuts.add(new String[] {p.name, o.name});
    for (String[] c : cuts) net.cut(c[0], c[1]);
    Lab.await("a new primary takes writes", WAIT, () -> w.firstAckAfter(t0, p.pgport) != null);
    Writer.Ack first = w.firstAckAfter(t0, p.pgport);
    Lab.sleep(2_000);
    local.close();
    sync.close();
    Long fenced = logLine(p, "fencing PostgreSQL", wall);
    assertNotNull(fenced, "the old primary's keeper fenced");
    long lateLocal = local.acksAfter(first.nanos());
    long lateSync = sync.acksAfter(first.nanos());
    say(String.format("primary cut from everyone: fenced %s after the cut, new primary's first write %s after the"
            + " cut (%s later); late acknowledgements by the old primary: %d local, %d synchronous",
        secs(fenced - wall), secs(first.wallMs() - wall), secs(first.wallMs() - fenced), lateLocal, lateSync));
    assertTrue(fenced < first.wallMs(), "fenced before the new primary's first write");
    assertEquals(0, lateLocal);
    assertEquals(0, lateSync);
    for (String[] c : cuts) net.heal(c[0], c[1]);
    lab.awaitSettled(WAIT);
    assertEquals(1, E2e.count(E2e.rulesSince(lab, wall), "F"), "one failover");
    E2e.check(lab, w);
  }

  @Test
  @Order(3)
  void threeNodesSplit_primaryAndStandby2_againstControllerAndStandby1_neverTwoWriters() throws Exception {
    Lab.Node p = lab.awaitSettled(WAIT);
    Lab.Node s1 = others(p).get(0);
    Lab.Node s2 = others(p).get(1);
    Writer w = E2e.writer(lab, 30_000_000L);
    Map<String, Writer> adv = new TreeMap<>();
    long k = 1;
    for (Lab.Node n : lab.nodes()) {
      adv.put(n.name, Writer.adversary(n, "local", 20, 1_000_000_000_000L + 30_000_000L + k++ * 1_000_000L).start());
    }
    long wall = System.currentTimeMillis();
    long t0 = System.nanoTime();
    String[][] cuts = {{"controller", p.name}, {"controller", s2.name}, {s1.name, p.name}, {s1.name, s2.name}};
    for (String[] c : cuts) net.cut(c[0], c[1]);
    Lab.sleep(4 * E2e.FAST.leaseMs() + 2 * E2e.FAST.silenceMs());
    // who took writes after the split, and when
    Map<String, long[]> spans = new TreeMap<>();
    for (var e : adv.entrySet()) {
      List<Writer.Ack> acks = e.getValue().acks().stream().filter(a -> a.nanos() > t0).toList();
      if (!acks.isEmpty()) spans.put(e.getKey(), new long[] {acks.get(0).nanos(), acks.get(acks.size() - 1).nanos(),
          acks.size()});
    }
    List<String> rules = E2e.rulesSince(lab, wall);
    StringBuilder sb = new StringBuilder();
    for (var e : spans.entrySet()) {
      sb.append(String.format(" %s: %d acks from +%s to +%s;", e.getKey(), e.getValue()[2],
          secs((e.getValue()[0] - t0) / 1_000_000), secs((e.getValue()[1] - t0) / 1_000_000)));
    }
    say("split {" + p.name + ", " + s2.name + "} | {controller, " + s1.name + "}: decisions " + rules + ";"
        + (spans.isEmpty() ? " no node acknowledged anything" : sb.toString()));
    for (var a : spans.entrySet()) {
      for (var b : spans.entrySet()) {
        if (a.getKey().equals(b.getKey())) continue;
        // a's acknowledgements all come before b's first one, or after b's last one
        boolean overlap = a.getValue()[1] > b.getValue()[0] && a.getValue()[0] < b.getValue()[1];
        assertTrue(!overlap, "two nodes took writes at once: " + sb);
      }
    }
    for (String[] c : cuts) net.heal(c[0], c[1]);
    for (Writer a : adv.values()) a.close();
    lab.awaitSettled(WAIT);
    E2e.check(lab, w);
  }

  /** The wall time (ms) of the first line of {@code n}'s log containing {@code text} at or after {@code since}. */
  static Long logLine(Lab.Node n, String text, long since) throws Exception {
    for (String l : Files.readAllLines(n.lab().root.resolve(n.name + ".log"))) {
      if (!l.contains(text) || l.length() < 12) continue;
      long ms = LocalDate.now().atTime(LocalTime.parse(l.substring(0, 12))).atZone(ZoneId.systemDefault())
          .toInstant().toEpochMilli();
      if (ms >= since) return ms;
    }
    return null;
  }
}
