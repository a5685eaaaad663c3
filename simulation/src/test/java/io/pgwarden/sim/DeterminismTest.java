package io.pgwarden.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Same seed, same run, to the byte: twice in this JVM, and once more in a fresh JVM. */
class DeterminismTest {
  static final long[] SEEDS = {3, 1234};

  @Test
  void sameSeedSameTraceHashInProcessAndInAFreshJvm() throws Exception {
    List<String> hashes = new ArrayList<>();
    for (long seed : SEEDS) {
      String a = Simulator.run(seed, EnumSet.noneOf(Bugs.class), true, false).trace().hash();
      String b = Simulator.run(seed, EnumSet.noneOf(Bugs.class), true, false).trace().hash();
      assertEquals(a, b, "seed " + seed + " hashed differently twice in one JVM");
      hashes.add(a);
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
          "io.pgwarden.sim.Simulator", Long.toString(seed), "", "--hash-only").redirectErrorStream(true);
      Process p = pb.start();
      String last = null;
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String l = r.readLine(); l != null; l = r.readLine()) {
          if (l.startsWith("TRACE ")) last = l;
        }
      }
      assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the fresh JVM did not finish");
      assertEquals(0, p.exitValue());
      assertEquals("hash=" + a, last == null ? null : last.substring(last.indexOf("hash=")),
          "seed " + seed + " in a fresh JVM: " + last);
      System.out.println("DETERMINISM seed=" + seed + " hash=" + a + " (twice in-process, once in a fresh JVM)");
    }
    assertNotEquals(hashes.get(0), hashes.get(1), "two seeds, one history: the seed is not used");
  }
}
