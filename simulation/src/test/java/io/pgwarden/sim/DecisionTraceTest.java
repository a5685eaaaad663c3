package io.pgwarden.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgwarden.model.Timing;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The model meets its recordings: a decision trace (docs/simulation.md, "Decision traces") recorded by a
 * controller is replayed through the simulator's decision path and reaches the same goals, event for
 * event; a trace whose decisions were changed is caught.
 */
class DecisionTraceTest {
  @Test
  void aRecordedHistoryReplaysToTheSameDecisions() throws Exception {
    for (long seed : new long[] {11, 154, 587}) {
      World w = new World(seed, EnumSet.noneOf(Bugs.class), false, false);
      w.ctl.recorder = new DecisionTrace.Recorder();
      SimResult r = w.run();
      List<String> lines = w.ctl.recorder.lines;
      Path out = Path.of("target", "decision-trace-seed-" + seed + ".jsonl");
      Files.createDirectories(out.getParent());
      Files.write(out, lines);
      DecisionTrace.Replay rp = DecisionTrace.replay("sim", Timing.DEFAULT, Files.readAllLines(out));
      System.out.println("TRACE-REPLAY seed=" + seed + " lines=" + lines.size() + " inputs=" + rp.inputs()
          + " decisions=" + rp.decisions() + " restarts=" + lines.stream().filter(l -> l.startsWith("{\"restart\""))
          .count() + (r.ok() ? "" : " (run violated " + r.violation().invariant() + ")"));
      assertNull(rp.firstDifference(), "seed " + seed + ": " + rp.firstDifference());
      assertTrue(rp.decisions() > 10, "a trace with decisions");
    }
  }

  @Test
  void aChangedDecisionIsCaught() throws Exception {
    World w = new World(11, EnumSet.noneOf(Bugs.class), false, false);
    w.ctl.recorder = new DecisionTrace.Recorder();
    w.run();
    List<String> lines = new ArrayList<>(w.ctl.recorder.lines);
    int i = 0;
    while (!(lines.get(i).contains("\"type\":\"decided\"") && lines.get(i).contains("\"state\":\"secondary\""))) i++;
    lines.set(i, lines.get(i).replace("\"state\":\"secondary\"", "\"state\":\"catchingup\""));
    DecisionTrace.Replay rp = DecisionTrace.replay("sim", Timing.DEFAULT, lines);
    assertNotNull(rp.firstDifference());
    assertTrue(rp.firstDifference().contains("recorded"), rp.firstDifference());
    assertEquals(true, rp.inputs() > 0);
  }
}
