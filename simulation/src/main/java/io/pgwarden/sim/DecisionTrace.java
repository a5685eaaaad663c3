package io.pgwarden.sim;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgwarden.controller.core.DecisionCore;
import io.pgwarden.controller.core.DecisionTraceLines;
import io.pgwarden.controller.core.Formation;
import io.pgwarden.controller.core.Input;
import io.pgwarden.controller.core.Now;
import io.pgwarden.controller.core.Observations;
import io.pgwarden.controller.core.Outcome;
import io.pgwarden.model.FormationEvent;
import io.pgwarden.model.Goal;
import io.pgwarden.model.JournalEvent;
import io.pgwarden.model.Timing;
import io.pgwarden.persistence.Json;
import java.util.ArrayList;
import java.util.List;

/**
 * The decision trace: what a controller was given and what it decided, one JSON object per line (JSONL),
 * so that a history recorded anywhere — the simulator, the actor tests, the end-to-end tests on real
 * PostgreSQL — can be replayed through the simulator's decision path and checked to reach the same goals.
 *
 * <pre>
 * {"restart": {"epoch": 2, "mono": 81234, "journal": 41}}   a controller (re)start; the journal kept 41 events
 * {"t": 812345, "wall": 1764..., "input": {"type": "report", "value": {...Input.Report...}}}
 * {"t": 812345, "wall": 1764..., "reply": {"node": 2}}       a held report answered (a lease may be granted)
 * {"event": {...the journal's JSON of each event that input produced, Decided and the others...}}
 * </pre>
 *
 * Input types: start, tick, create-formation, drop-formation, register, report, probe, operator; the
 * value is the {@link Input} record in pgwarden's JSON dialect. Times are the controller's monotonic and
 * wall clocks in milliseconds.
 */
final class DecisionTrace {
  private DecisionTrace() {}

  /** Collects the lines of one controller's life. */
  static final class Recorder {
    final List<String> lines = new ArrayList<>();

    void restart(long epoch, long bootMono, int journalSize) {
      lines.add(DecisionTraceLines.restart("sim", epoch, bootMono, journalSize, null));
    }

    void input(Now now, Input in, List<FormationEvent> events) {
      lines.addAll(DecisionTraceLines.input(now, in, events));
    }

    void reply(Now now, int nodeId) {
      lines.add(DecisionTraceLines.reply(now, nodeId));
    }
  }

  /** What a replay found: how many inputs and decisions, and the first difference (null: none). */
  record Replay(int inputs, int decisions, String firstDifference) {}

  /**
   * Replays {@code lines} through the real decision core: the journal is folded as the recorded controller
   * folded it (restarts rebuild it from the events kept), and every input must produce the recorded events.
   */
  static Replay replay(String formation, Timing timing, List<String> lines) throws java.io.IOException {
    DecisionCore core = new DecisionCore(timing);
    List<FormationEvent> journal = new ArrayList<>();
    Formation f = Formation.empty(formation);
    Observations obs = null;
    List<FormationEvent> expected = new ArrayList<>();
    List<FormationEvent> produced = List.of();
    int inputs = 0;
    int decisions = 0;
    for (int n = 0; n < lines.size(); n++) {
      JsonNode line = Json.MAPPER.readTree(lines.get(n));
      if (line.has("event")) {
        expected.add((FormationEvent) Json.readEvent(line.get("event").toString().getBytes(
            java.nio.charset.StandardCharsets.UTF_8)));
        continue;
      }
      String diff = compare(produced, expected);
      if (diff != null) return new Replay(inputs, decisions, "before line " + (n + 1) + ": " + diff);
      journal.addAll(produced);
      expected.clear();
      produced = List.of();
      if (line.has("restart")) {
        int keep = line.get("restart").get("journal").asInt();
        while (journal.size() > keep) journal.remove(journal.size() - 1);
        f = foldAs(formation, journal);
        obs = Observations.boot(line.get("restart").get("epoch").asLong(), line.get("restart").get("mono").asLong());
        continue;
      }
      Now now = new Now(line.get("t").asLong(), line.get("wall").asLong());
      if (line.has("reply")) {
        try {
          Outcome o = core.reply(new DecisionCore.State(f, obs), line.get("reply").get("node").asInt(), now);
          obs = o.observations();
        } catch (io.pgwarden.api.ApiException e) {
          // the node was removed while its report was held: it was told so, nothing changed
        }
        continue;
      }
      JsonNode in = line.get("input");
      Outcome o = core.handle(new DecisionCore.State(f, obs), DecisionTraceLines.input(in.get("type").asText(),
          in.get("value")), now);
      inputs++;
      obs = o.observations();
      f = o.formation();
      produced = o.events();
      for (FormationEvent e : produced) {
        if (e instanceof FormationEvent.Decided) decisions++;
      }
    }
    String diff = compare(produced, expected);
    return new Replay(inputs, decisions, diff == null ? null : "at the end: " + diff);
  }

  private static Formation foldAs(String name, List<FormationEvent> journal) {
    Formation x = Formation.empty(name);
    for (FormationEvent e : journal) x = x.apply(e);
    return x;
  }

  /** Decisions must match in stamp, rule and goals; other events in type. */
  private static String compare(List<FormationEvent> produced, List<FormationEvent> expected) {
    if (produced.size() != expected.size()) {
      return "produced " + describe(produced) + ", recorded " + describe(expected);
    }
    for (int i = 0; i < produced.size(); i++) {
      FormationEvent p = produced.get(i);
      FormationEvent e = expected.get(i);
      if (p.getClass() != e.getClass()) return "produced " + describe(produced) + ", recorded " + describe(expected);
      if (p instanceof FormationEvent.Decided a && e instanceof FormationEvent.Decided b) {
        if (!a.stamp().equals(b.stamp()) || !a.rule().equals(b.rule()) || !goals(a).equals(goals(b))) {
          return "produced " + describe(produced) + ", recorded " + describe(expected);
        }
      }
    }
    return null;
  }

  private static String goals(FormationEvent.Decided d) {
    StringBuilder sb = new StringBuilder();
    for (Goal g : d.goals()) sb.append(g.nodeId()).append(':').append(g.state()).append('@').append(g.stamp()).append(' ');
    return sb.toString();
  }

  private static String describe(List<FormationEvent> events) {
    List<String> out = new ArrayList<>();
    for (JournalEvent e : events) {
      out.add(e instanceof FormationEvent.Decided d ? d.stamp() + " " + d.rule() + " " + goals(d).trim()
          : e.getClass().getSimpleName());
    }
    return out.toString();
  }
}
