package io.pgwarden.cli;

import io.pgwarden.api.Dto;
import java.util.ArrayList;
import java.util.List;

/** Plain-text tables as pg_autoctl prints them: a header, a rule, aligned columns. */
final class Tables {
  private Tables() {}

  static String render(List<String> header, List<List<String>> rows) {
    int[] w = new int[header.size()];
    for (int i = 0; i < w.length; i++) w[i] = header.get(i).length();
    for (List<String> r : rows) {
      for (int i = 0; i < w.length; i++) w[i] = Math.max(w[i], r.get(i) == null ? 0 : r.get(i).length());
    }
    StringBuilder sb = new StringBuilder();
    line(sb, header, w);
    List<String> rule = new ArrayList<>();
    for (int x : w) rule.add("-".repeat(x));
    line(sb, rule, w);
    for (List<String> r : rows) line(sb, r, w);
    return sb.toString();
  }

  /** One row aligned to the given widths, without trailing blanks or newline. */
  static String line(List<String> cells, int[] w) {
    StringBuilder sb = new StringBuilder();
    line(sb, cells, w);
    sb.setLength(sb.length() - 1);
    return sb.toString();
  }

  /** The rule under a header of these widths. */
  static String rule(int[] w) {
    List<String> rule = new ArrayList<>();
    for (int x : w) rule.add("-".repeat(x));
    return line(rule, w);
  }

  private static void line(StringBuilder sb, List<String> cells, int[] w) {
    for (int i = 0; i < w.length; i++) {
      String c = cells.get(i) == null ? "" : cells.get(i);
      sb.append(i == 0 ? "" : " | ").append(c).append(" ".repeat(Math.max(0, w[i] - c.length())));
    }
    sb.append(stripTrailing(sb)).append('\n');
  }

  private static String stripTrailing(StringBuilder sb) {
    int end = sb.length();
    while (end > 0 && sb.charAt(end - 1) == ' ') end--;
    sb.setLength(end);
    return "";
  }

  /** pg_autoctl's show state columns. */
  static String state(Dto.FormationState s) {
    List<List<String>> rows = new ArrayList<>();
    for (Dto.NodeView n : s.nodes()) rows.add(List.of(n.name(), String.valueOf(n.nodeId()),
        n.host() + ":" + n.port(), (n.timeline() == 0 ? "-" : n.timeline() + ": " + n.lsn()), connection(s, n),
        n.reportedState() == null ? "?" : n.reportedState().wireName(), n.assignedState().wireName()));
    return render(List.of("Name", "Node", "Host:Port", "TLI: LSN", "Connection", "Reported State", "Assigned State"),
        rows);
  }

  static String connection(Dto.FormationState s, Dto.NodeView n) {
    String kind = n.assignedState().canTakeWrites() ? "read-write" : "read-only";
    String mark = switch (n.health()) {
      case "bad" -> " !";
      case "unknown" -> " ?";
      default -> "";
    };
    return kind + mark;
  }
}
