package io.pgwarden.controller.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgwarden.model.FormationEvent;
import io.pgwarden.model.Timing;
import io.pgwarden.persistence.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The lines of a decision trace (JSONL): what a controller's decision core was given and what it decided,
 * so that a history recorded anywhere — the simulator, or a real controller under the end-to-end tests —
 * can be replayed through the same core and checked to reach the same goals (docs/simulation.md,
 * "Decision traces").
 *
 * <pre>
 * {"restart": {"formation": "f", "epoch": 2, "mono": 81234, "journal": 41, "timing": {...}}}   a (re)start
 *                                                          on the first 41 events of the journal
 * {"t": 812345, "wall": 1764..., "input": {"type": "report", "value": {...Input.Report...}}}
 * {"t": 812345, "wall": 1764..., "reply": {"node": 2}}                     a held report answered
 * {"event": {...the journal's JSON of each event that input produced...}}
 * </pre>
 */
public final class DecisionTraceLines {
  private DecisionTraceLines() {}

  public static String restart(String formation, long epoch, long bootMono, long journalEvents, Timing timing) {
    ObjectNode o = Json.MAPPER.createObjectNode();
    ObjectNode r = o.putObject("restart");
    if (formation != null) r.put("formation", formation);
    r.put("epoch", epoch);
    r.put("mono", bootMono);
    r.put("journal", journalEvents);
    if (timing != null) r.set("timing", Json.MAPPER.valueToTree(timing));
    return o.toString();
  }

  /** The input line, then one line per event it produced. */
  public static List<String> input(Now now, Input in, List<FormationEvent> events) {
    List<String> out = new ArrayList<>(1 + events.size());
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("t", now.mono());
    o.put("wall", now.wall());
    ObjectNode i = o.putObject("input");
    i.put("type", type(in));
    i.set("value", Json.MAPPER.valueToTree(in));
    out.add(o.toString());
    for (FormationEvent e : events) {
      ObjectNode x = Json.MAPPER.createObjectNode();
      try {
        x.set("event", Json.MAPPER.readTree(Json.writeEvent(e)));
      } catch (IOException ex) {
        throw new UncheckedIOException(ex);
      }
      out.add(x.toString());
    }
    return out;
  }

  public static String reply(Now now, int nodeId) {
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("t", now.mono());
    o.put("wall", now.wall());
    o.putObject("reply").put("node", nodeId);
    return o.toString();
  }

  public static String type(Input in) {
    if (in instanceof Input.Start) return "start";
    if (in instanceof Input.Tick) return "tick";
    if (in instanceof Input.CreateFormation) return "create-formation";
    if (in instanceof Input.DropFormation) return "drop-formation";
    if (in instanceof Input.Register) return "register";
    if (in instanceof Input.Report) return "report";
    if (in instanceof Input.Probe) return "probe";
    if (in instanceof Input.Operator) return "operator";
    throw new IllegalArgumentException("input " + in);
  }

  public static Input input(String type, JsonNode v) throws IOException {
    Class<? extends Input> c = switch (type) {
      case "start" -> Input.Start.class;
      case "tick" -> Input.Tick.class;
      case "create-formation" -> Input.CreateFormation.class;
      case "drop-formation" -> Input.DropFormation.class;
      case "register" -> Input.Register.class;
      case "report" -> Input.Report.class;
      case "probe" -> Input.Probe.class;
      case "operator" -> Input.Operator.class;
      default -> throw new IllegalArgumentException("unknown input type " + type);
    };
    return Json.MAPPER.treeToValue(v, c);
  }
}
