package io.pgwarden.sim;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgwarden.model.Timing;
import io.pgwarden.persistence.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The model meets reality: the decision traces a real controller wrote during the end-to-end tests on real
 * PostgreSQL (controller/target/e2e-traces/*.decisions.jsonl, made by the controller module's tests, which
 * the reactor runs first) replay through the simulator's decision path to the same decisions, event for
 * event. CI requires the traces (PGWARDEN_REQUIRE_E2E_TRACES=1); a run of this module alone has none.
 */
class RecordedDecisionTraceTest {
  static final Path DIR = Path.of("..", "controller", "target", "e2e-traces");

  @Test
  void theEndToEndTestsControllersReplayToTheSameDecisions() throws Exception {
    List<Path> traces = new ArrayList<>();
    if (Files.isDirectory(DIR)) {
      try (Stream<Path> s = Files.list(DIR)) {
        s.filter(p -> p.getFileName().toString().endsWith(".decisions.jsonl")).sorted().forEach(traces::add);
      }
    }
    if ("1".equals(System.getenv("PGWARDEN_REQUIRE_E2E_TRACES"))) {
      assertFalse(traces.isEmpty(), "no decision traces in " + DIR.toAbsolutePath() + ": did the e2e tests run?");
    }
    assumeTrue(!traces.isEmpty(), "no end-to-end decision traces in " + DIR.toAbsolutePath());
    for (Path p : traces) {
      List<String> lines = Files.readAllLines(p);
      String formation = formation(lines);
      Timing timing = timing(lines);
      DecisionTrace.Replay rp = DecisionTrace.replay(formation, timing, lines);
      long restarts = lines.stream().filter(l -> l.startsWith("{\"restart\"")).count();
      System.out.println("E2E-TRACE-REPLAY " + p.getFileName() + " lines=" + lines.size() + " inputs=" + rp.inputs()
          + " decisions=" + rp.decisions() + " restarts=" + restarts);
      assertNull(rp.firstDifference(), p.getFileName() + ": " + rp.firstDifference());
      assertTrue(rp.decisions() >= 5, p.getFileName() + ": a trace with decisions");
    }
  }

  /** The formation's name, from the first restart line. */
  static String formation(List<String> lines) throws Exception {
    for (String l : lines) {
      JsonNode r = Json.MAPPER.readTree(l).path("restart");
      if (r.has("formation")) return r.get("formation").asText();
    }
    throw new AssertionError("no restart line names the formation");
  }

  static Timing timing(List<String> lines) throws Exception {
    for (String l : lines) {
      JsonNode r = Json.MAPPER.readTree(l).path("restart").path("timing");
      if (!r.isMissingNode() && !r.isNull()) return Json.MAPPER.treeToValue(r, Timing.class);
    }
    return Timing.DEFAULT;
  }
}
