package io.pgwarden.controller.audit;

import io.pgwarden.controller.audit.AuditReport.Finding;
import io.pgwarden.controller.audit.AuditReport.Incident;
import io.pgwarden.controller.audit.AuditReport.Lane;
import io.pgwarden.controller.audit.AuditReport.Phase;
import io.pgwarden.controller.audit.AuditReport.Segment;
import io.pgwarden.controller.audit.AuditReport.WritablePeriod;
import java.util.List;
import java.util.Locale;

/**
 * The audit as one self-contained HTML page: inline CSS and SVG, no script, nothing fetched. One SVG lane
 * per node ({@code <g class="lane" data-node-id=..>}) made of segments coloured by role
 * ({@code rect.segment.role-writable|role-standby|role-transitioning|role-down}), the writable periods
 * over them ({@code rect.writable-period}, {@code rect.lease-tail}), one marker per incident
 * ({@code <g class="incident" data-incident-id=.. data-kind=..>}, with a {@code line.phase} per phase),
 * one per finding ({@code <g class="finding" data-severity=..>}); then the incidents and findings as
 * tables. Hovering shows details through SVG {@code <title>} elements.
 */
public final class TimelinePage {
  static final int LEFT = 150;
  static final int PLOT = 1000;
  static final int RIGHT = 60;
  static final int AXIS = 46;
  static final int LANE = 30;
  static final int GAP = 12;
  static final int MARKERS = 40;

  private TimelinePage() {}

  public static String render(AuditReport r) {
    List<Lane> lanes = r.lanes() == null ? List.of() : r.lanes();
    long t0;
    long t1;
    if (r.query().since() != null) {
      t0 = r.query().since();
    } else {
      t0 = r.journal().firstAt() == null ? 0 : r.journal().firstAt();
    }
    if (r.query().until() != null) {
      t1 = r.query().until();
    } else {
      t1 = r.journal().lastAt() == null ? t0 : Math.max(r.journal().lastAt(), r.query().now());
    }
    if (t1 <= t0) t1 = t0 + 1;
    Scale x = new Scale(t0, t1);
    int lanesTop = AXIS + MARKERS;
    int height = lanesTop + lanes.size() * (LANE + GAP) + 20;
    int width = LEFT + PLOT + RIGHT;

    StringBuilder b = new StringBuilder(16_384);
    b.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        .append("<title>pgwarden audit: ").append(esc(r.formation())).append("</title>\n")
        .append("<style>\n").append(CSS).append("</style>\n</head>\n<body>\n");
    b.append("<h1>Formation <code>").append(esc(r.formation())).append("</code>: timeline</h1>\n");
    b.append("<p class=\"span\">").append(r.journal().events()).append(" journal events, ")
        .append(esc(AuditText.instant(t0))).append(" to ").append(esc(AuditText.instant(t1))).append(" (")
        .append(esc(AuditText.duration(t1 - t0))).append("); ").append(r.incidents().size()).append(" incident(s), ")
        .append(r.findings().size()).append(" finding(s)</p>\n");
    legend(b);

    b.append("<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ").append(width).append(' ')
        .append(height).append("\" width=\"").append(width).append("\" height=\"").append(height)
        .append("\" role=\"img\" aria-label=\"node roles over time\">\n");
    axis(b, x, height);
    for (int i = 0; i < lanes.size(); i++) {
      lane(b, lanes.get(i), r, x, lanesTop + i * (LANE + GAP));
    }
    int lanesBottom = lanesTop + lanes.size() * (LANE + GAP) - GAP;
    for (int k = 0; k < r.incidents().size(); k++) incident(b, r.incidents().get(k), x, lanesBottom, k % 3);
    for (Finding f : r.findings()) finding(b, f, x, lanesBottom);
    b.append("</svg>\n");

    incidentTable(b, r);
    findingTable(b, r);
    b.append("</body>\n</html>\n");
    return b.toString();
  }

  private record Scale(long t0, long t1) {
    double at(long t) {
      long c = Math.max(t0, Math.min(t1, t));
      return LEFT + (double) (c - t0) * PLOT / (t1 - t0);
    }
  }

  private static String f(double v) {
    return String.format(Locale.ROOT, "%.1f", v);
  }

  private static void legend(StringBuilder b) {
    b.append("<ul class=\"legend\">")
        .append("<li><span class=\"swatch role-writable\"></span>writable</li>")
        .append("<li><span class=\"swatch role-standby\"></span>standby</li>")
        .append("<li><span class=\"swatch role-transitioning\"></span>transitioning</li>")
        .append("<li><span class=\"swatch role-down\"></span>down / maintenance</li>")
        .append("<li><span class=\"swatch lease\"></span>write lease may still run</li>")
        .append("<li><span class=\"swatch incident-swatch\"></span>incident</li>")
        .append("</ul>\n");
  }

  private static void axis(StringBuilder b, Scale x, int height) {
    b.append("<g class=\"axis\">\n");
    b.append("<line x1=\"").append(LEFT).append("\" y1=\"").append(AXIS).append("\" x2=\"").append(LEFT + PLOT)
        .append("\" y2=\"").append(AXIS).append("\"/>\n");
    int ticks = 6;
    for (int i = 0; i <= ticks; i++) {
      long t = x.t0() + (x.t1() - x.t0()) * i / ticks;
      double px = x.at(t);
      b.append("<line class=\"tick\" x1=\"").append(f(px)).append("\" y1=\"").append(AXIS - 5).append("\" x2=\"")
          .append(f(px)).append("\" y2=\"").append(height - 10).append("\"/>");
      b.append("<text class=\"tick-label\" x=\"").append(f(px)).append("\" y=\"").append(AXIS - 10)
          .append("\" text-anchor=\"middle\">").append(esc(tickLabel(t, x))).append("</text>\n");
    }
    b.append("</g>\n");
  }

  private static String tickLabel(long t, Scale x) {
    String iso = AuditText.instant(t);
    if (x.t1() - x.t0() < 86_400_000L) return iso.substring(11, 23);
    return iso.substring(0, 16).replace('T', ' ');
  }

  private static void lane(StringBuilder b, Lane lane, AuditReport r, Scale x, int y) {
    b.append("<g class=\"lane\" data-node-id=\"").append(lane.nodeId()).append("\" data-node=\"")
        .append(esc(lane.name())).append("\">\n");
    b.append("<text class=\"lane-label\" x=\"").append(LEFT - 10).append("\" y=\"").append(y + LANE / 2 + 5)
        .append("\" text-anchor=\"end\">").append(esc(lane.name())).append(" (").append(lane.nodeId())
        .append(")</text>\n");
    b.append("<rect class=\"lane-bg\" x=\"").append(LEFT).append("\" y=\"").append(y).append("\" width=\"")
        .append(PLOT).append("\" height=\"").append(LANE).append("\"/>\n");
    for (Segment s : lane.segments()) {
      double x0 = x.at(s.from());
      double x1 = x.at(s.until() == null ? x.t1() : s.until());
      double w = Math.max(1.0, x1 - x0);
      b.append("<rect class=\"segment role-").append(s.role()).append("\" data-state=\"").append(s.state())
          .append("\" x=\"").append(f(x0)).append("\" y=\"").append(y).append("\" width=\"").append(f(w))
          .append("\" height=\"").append(LANE).append("\"><title>").append(esc(lane.name())).append(": ")
          .append(s.state()).append(s.healthy() ? "" : " (unhealthy)").append(", ")
          .append(esc(AuditText.instant(s.from()))).append(" to ")
          .append(s.until() == null ? "the end" : esc(AuditText.instant(s.until())))
          .append(s.until() == null ? "" : " (" + esc(AuditText.duration(s.until() - s.from())) + ")")
          .append("</title></rect>\n");
    }
    for (WritablePeriod p : r.primaries()) {
      if (p.nodeId() != lane.nodeId()) continue;
      double x0 = x.at(p.from());
      double x1 = x.at(p.goalUntil() == null ? x.t1() : p.goalUntil());
      b.append("<rect class=\"writable-period\" data-term=\"").append(p.term()).append("\" x=\"").append(f(x0))
          .append("\" y=\"").append(y - 4).append("\" width=\"").append(f(Math.max(1.0, x1 - x0)))
          .append("\" height=\"3\"><title>writable in term ").append(p.term()).append(" from ")
          .append(esc(AuditText.instant(p.from()))).append(" (").append(esc(p.openedBy())).append(")")
          .append(p.goalUntil() == null ? "" : " until " + esc(AuditText.instant(p.goalUntil())) + " ("
              + esc(p.closedBy()) + ")").append("</title></rect>\n");
      if (p.goalUntil() != null && p.until() != null && p.until() > p.goalUntil()) {
        double l0 = x.at(p.goalUntil());
        double l1 = x.at(p.until());
        b.append("<rect class=\"lease-tail\" x=\"").append(f(l0)).append("\" y=\"").append(y - 4)
            .append("\" width=\"").append(f(Math.max(1.0, l1 - l0))).append("\" height=\"3\"><title>")
            .append("writes certainly stopped at ").append(esc(AuditText.instant(p.until()))).append(" (")
            .append(esc(p.untilBasis())).append(")</title></rect>\n");
      }
    }
    b.append("</g>\n");
  }

  private static void incident(StringBuilder b, Incident i, Scale x, int lanesBottom, int row) {
    double x0 = x.at(i.startedAt());
    double x1 = x.at(i.endedAt() == null ? x.t1() : i.endedAt());
    int top = AXIS + 4;
    int mark = top + 2 + row * 10; // markers that start together are staggered
    b.append("<g class=\"incident\" data-incident-id=\"").append(esc(i.id())).append("\" data-kind=\"")
        .append(esc(i.kind())).append("\" data-status=\"").append(esc(i.status())).append("\">\n");
    b.append("<title>").append(esc(i.id())).append(' ').append(esc(i.kind()))
        .append(i.node() == null ? "" : " of " + esc(i.node()))
        .append(i.newPrimary() == null ? "" : " to " + esc(i.newPrimary())).append(", ")
        .append(esc(AuditText.instant(i.startedAt()))).append(", ").append(esc(i.status()))
        .append(i.durationMs() == null ? "" : ", " + esc(AuditText.duration(i.durationMs()))).append("</title>\n");
    b.append("<rect class=\"incident-span kind-").append(esc(i.kind())).append("\" x=\"").append(f(x0))
        .append("\" y=\"").append(top + 30).append("\" width=\"").append(f(Math.max(2.0, x1 - x0)))
        .append("\" height=\"").append(lanesBottom - top - 30).append("\"/>\n");
    b.append("<path class=\"incident-marker kind-").append(esc(i.kind())).append("\" d=\"M").append(f(x0))
        .append(' ').append(mark + 8).append(" l-5 -8 l10 0 z\"/>\n");
    b.append("<text class=\"incident-label\" x=\"").append(f(x0 + 7)).append("\" y=\"").append(mark + 8)
        .append("\">").append(esc(i.id())).append("</text>\n");
    for (Phase p : i.phases()) {
      double px = x.at(p.at());
      b.append("<line class=\"phase\" data-phase=\"").append(esc(p.name())).append("\" x1=\"").append(f(px))
          .append("\" y1=\"").append(top + 30).append("\" x2=\"").append(f(px)).append("\" y2=\"").append(lanesBottom)
          .append("\"><title>").append(esc(p.name())).append(p.node() == null ? "" : " " + esc(p.node()))
          .append(" at ").append(esc(AuditText.instant(p.at()))).append(" (")
          .append(esc(AuditText.offset(p.offsetMs()))).append(")").append(p.detail() == null ? ""
              : ": " + esc(p.detail())).append("</title></line>\n");
    }
    b.append("</g>\n");
  }

  private static void finding(StringBuilder b, Finding fi, Scale x, int lanesBottom) {
    double px = x.at(fi.at());
    int y = lanesBottom + 10;
    b.append("<g class=\"finding\" data-kind=\"").append(esc(fi.kind())).append("\" data-severity=\"")
        .append(esc(fi.severity())).append("\"><title>").append(esc(fi.severity())).append(' ')
        .append(esc(fi.kind())).append(": ").append(esc(fi.message())).append("</title>")
        .append("<circle class=\"finding-marker severity-").append(esc(fi.severity())).append("\" cx=\"")
        .append(f(px)).append("\" cy=\"").append(y).append("\" r=\"5\"/></g>\n");
  }

  private static void incidentTable(StringBuilder b, AuditReport r) {
    b.append("<h2>Incidents</h2>\n");
    if (r.incidents().isEmpty()) {
      b.append("<p>none</p>\n");
      return;
    }
    for (Incident i : r.incidents()) {
      b.append("<section class=\"incident-detail\" id=\"").append(esc(i.id())).append("\">\n<h3>")
          .append(esc(i.id())).append(": ").append(esc(i.kind()))
          .append(i.node() == null ? "" : " of " + esc(i.node()))
          .append(i.newPrimary() == null ? "" : " &rarr; " + esc(i.newPrimary())).append(" <small>")
          .append(esc(i.status())).append(", term ").append(i.term()).append("</small></h3>\n<p>");
      if (i.trigger() != null) {
        if ("operator".equals(i.trigger().kind())) {
          b.append("Requested by <b>").append(esc(i.trigger().who())).append("</b>")
              .append(i.trigger().reason() == null ? "" : " (" + esc(i.trigger().reason()) + ")").append(". ");
        } else if (i.trigger().cause() != null) {
          b.append("Trigger: ").append(esc(i.trigger().cause())).append(". ");
        }
        if (i.trigger().observer() != null) b.append("Seen by ").append(esc(i.trigger().observer())).append(". ");
      }
      if (i.walAtRiskBytes() != null) b.append("WAL at risk: ").append(i.walAtRiskBytes()).append(" bytes. ");
      if (i.bytesDiscarded() != null) {
        b.append("Discarded by ").append(esc(i.rejoinMethod())).append(": ").append(i.bytesDiscarded())
            .append(" bytes. ");
      }
      if (i.writeOutageMs() != null) {
        b.append("Writes unavailable ").append(esc(AuditText.duration(i.writeOutageMs()))).append(". ");
      }
      b.append("</p>\n<table class=\"phases\"><thead><tr><th>offset</th><th>phase</th><th>node</th><th>at</th>")
          .append("<th>rule / detail</th></tr></thead><tbody>\n");
      for (Phase p : i.phases()) {
        b.append("<tr><td class=\"num\">").append(esc(AuditText.offset(p.offsetMs()))).append("</td><td>")
            .append(esc(p.name())).append("</td><td>").append(p.node() == null ? "" : esc(p.node()))
            .append("</td><td class=\"at\">")
            .append(esc(AuditText.instant(p.at()))).append("</td><td>")
            .append(p.rule() == null ? "" : "<code>" + esc(p.rule()) + "</code> ")
            .append(p.detail() == null ? "" : esc(p.detail())).append("</td></tr>\n");
      }
      b.append("</tbody></table>\n</section>\n");
    }
  }

  private static void findingTable(StringBuilder b, AuditReport r) {
    b.append("<h2>Findings</h2>\n");
    if (r.findings().isEmpty()) {
      b.append("<p class=\"none\">none: nothing that should never happen</p>\n");
      return;
    }
    b.append("<table class=\"findings\"><thead><tr><th>severity</th><th>kind</th><th>at</th><th>what</th></tr>")
        .append("</thead><tbody>\n");
    for (Finding fi : r.findings()) {
      b.append("<tr class=\"severity-").append(esc(fi.severity())).append("\"><td>").append(esc(fi.severity()))
          .append("</td><td>").append(esc(fi.kind())).append("</td><td>").append(esc(AuditText.instant(fi.at())))
          .append("</td><td>").append(esc(fi.message())).append("</td></tr>\n");
    }
    b.append("</tbody></table>\n");
  }

  /** Escapes text and attribute values for HTML and inline SVG. */
  static String esc(String s) {
    if (s == null) return "";
    StringBuilder b = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      String rep = switch (c) {
        case '&' -> "&amp;";
        case '<' -> "&lt;";
        case '>' -> "&gt;";
        case '"' -> "&quot;";
        case '\'' -> "&#39;";
        default -> null;
      };
      if (rep == null && c < 0x20 && c != '\n' && c != '\t') rep = " ";
      if (rep != null) {
        if (b == null) b = new StringBuilder(s.length() + 16).append(s, 0, i);
        b.append(rep);
      } else if (b != null) {
        b.append(c);
      }
    }
    return b == null ? s : b.toString();
  }

  static final String CSS = """
      body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
      h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; } h3 { font-size: 1em; }
      code { font-family: ui-monospace, monospace; }
      .span { color: #555; }
      .legend { list-style: none; padding: 0; display: flex; gap: 1.2em; flex-wrap: wrap; }
      .legend li { display: flex; align-items: center; gap: .4em; }
      .swatch { display: inline-block; width: 1.4em; height: .9em; border: 1px solid #0003; }
      svg.timeline { max-width: 100%; height: auto; background: #fff; }
      .axis line { stroke: #888; } .axis .tick { stroke: #0001; } .tick-label { font-size: 11px; fill: #555; }
      .lane-label { font-size: 13px; fill: #222; }
      .lane-bg { fill: #f4f4f4; }
      .role-writable { fill: #2e7d32; background: #2e7d32; }
      .role-standby { fill: #1e88e5; background: #1e88e5; }
      .role-transitioning { fill: #f9a825; background: #f9a825; }
      .role-down { fill: #9e9e9e; background: #9e9e9e; }
      .segment { stroke: #fff; stroke-width: .5; }
      .writable-period { fill: #1b5e20; }
      .lease-tail, .swatch.lease { fill: #c62828; background: #c62828; }
      .incident-span { fill: #6a1b9a; fill-opacity: .08; stroke: #6a1b9a; stroke-opacity: .5; stroke-dasharray: 3 2; }
      .incident-marker, .swatch.incident-swatch { fill: #6a1b9a; background: #6a1b9a; }
      .incident-marker.kind-node-loss { fill: #c62828; }
      .incident-label { font-size: 11px; fill: #6a1b9a; }
      .phase { stroke: #6a1b9a; stroke-opacity: .35; stroke-width: 1; }
      .finding-marker { stroke: #000; stroke-width: .5; }
      .severity-critical { fill: #b71c1c; } .severity-warning { fill: #ef6c00; } .severity-info { fill: #90a4ae; }
      tr.severity-critical td { color: #b71c1c; font-weight: bold; } tr.severity-warning td { color: #e65100; }
      table { border-collapse: collapse; margin: .4em 0 1em; }
      th, td { border-bottom: 1px solid #ddd; padding: .2em .6em; text-align: left; vertical-align: top; }
      td.at { white-space: nowrap; font-variant-numeric: tabular-nums; }
      td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
      section.incident-detail small { color: #666; font-weight: normal; }
      """;
}
