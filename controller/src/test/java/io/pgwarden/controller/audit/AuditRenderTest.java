package io.pgwarden.controller.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgwarden.controller.audit.AuditReport.Incident;
import io.pgwarden.controller.audit.AuditReport.Lane;
import io.pgwarden.controller.audit.AuditReport.Segment;
import io.pgwarden.controller.core.AuditScenarios;
import io.pgwarden.controller.core.AuditScenarios.Recording;
import io.pgwarden.model.FormationEvent;
import io.pgwarden.model.NodeAddress;
import io.pgwarden.model.NodeSettings;
import io.pgwarden.persistence.Json;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathConstants;
import javax.xml.xpath.XPathFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;

/** The report as JSON, as text for the CLI, and as the timeline page; and the since/until window. */
class AuditRenderTest {
  static final Recording FAILOVER = AuditScenarios.twoNodeFailover(8192);

  static AuditReport failover() {
    return AuditReplay.replay("f", FAILOVER.events(), AuditQuery.all().at(FAILOVER.mark("writes-open")));
  }

  static void fieldNames(JsonNode n, List<String> out) {
    if (n.isObject()) {
      for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
        String f = it.next();
        out.add(f);
        fieldNames(n.get(f), out);
      }
    } else if (n.isArray()) {
      for (JsonNode x : n) fieldNames(x, out);
    }
  }

  @Test
  void jsonIsSnakeCaseAndReadsBack() throws Exception {
    AuditReport a = failover();
    String json = Json.write(a);
    JsonNode root = Json.MAPPER.readTree(json);
    List<String> names = new ArrayList<>();
    fieldNames(root, names);
    for (String n : names) assertEquals(n.toLowerCase(java.util.Locale.ROOT), n, "not snake_case: " + n);
    JsonNode inc = root.get("incidents").get(0);
    assertEquals("automatic-failover", inc.get("kind").asText());
    assertEquals(0, inc.get("wal_at_risk_bytes").asLong());
    assertEquals(8192, inc.get("bytes_discarded").asLong());
    assertEquals("primary_last_heard", inc.get("phases").get(0).get("name").asText());
    assertTrue(inc.get("phases").get(0).get("offset_ms").asLong() < 0);
    assertEquals("lease", root.get("primaries").get(0).get("until_basis").asText());
    assertEquals(2, root.get("state_at").get("primary_node_id").asInt());
    assertEquals("wait_primary", root.get("state_at").get("nodes").get(1).get("goal").asText());
    assertFalse(root.get("primaries").get(1).has("until"), "nulls are left out");
    assertEquals(a, Json.read(json, AuditReport.class), "the JSON reads back into the same report");
  }

  @Test
  void textListsIncidentsWithPhasesAndDurations() {
    AuditReport a = failover();
    String t = AuditText.render(a);
    assertTrue(t.startsWith("Audit of formation f: " + a.journal().events() + " events"), t);
    assertTrue(t.contains("[i1] automatic-failover of a (1) -> b (2)  term 3  complete"), t);
    assertTrue(t.contains("seen by controller-probe: keeper silent"), t);
    assertTrue(t.contains("WAL at risk at decision time: 0 bytes; discarded by rewind: 8192 bytes (pg_rewind)"), t);
    assertTrue(t.contains("writes unavailable 2.3 s"), t);
    for (String phase : List.of("primary_last_heard", "detected", "candidate_chosen", "promotion_permitted",
        "writes_reopened", "rejoin_started", "rewound", "rejoined")) {
      assertTrue(t.contains(" " + phase + " "), phase + " missing:\n" + t);
    }
    assertTrue(t.indexOf(" detected ") < t.indexOf(" writes_reopened ") && t.indexOf(" writes_reopened ")
        < t.indexOf(" rejoined "), t);
    assertTrue(t.contains("State at " + AuditText.instant(FAILOVER.mark("writes-open"))), t);
    assertTrue(t.contains("primary b (2)"), t);
    assertEquals("850 ms", AuditText.duration(850));
    assertEquals("2.35 s", AuditText.duration(2_350));
    assertEquals("2 s", AuditText.duration(2_000));
    assertEquals("4 min 05 s", AuditText.duration(245_000));
    assertEquals("3 h 02 min", AuditText.duration(3 * 3_600_000 + 120_000));
    assertEquals("2 d 04 h", AuditText.duration(2 * 86_400_000L + 4 * 3_600_000));
  }

  @Test
  void instantsAsTheCliTakesThem() {
    long now = 1_764_000_000_000L;
    assertEquals(1_764_000_007_752L, AuditText.parseInstant("2025-11-24T16:00:07.752Z", now));
    assertEquals(1_764_000_007_752L, AuditText.parseInstant("2025-11-24T17:00:07.752+01:00", now));
    assertEquals(1_764_000_007_752L, AuditText.parseInstant(" 1764000007752 ", now));
    assertEquals(now - 15 * 60_000L, AuditText.parseInstant("-15m", now));
    assertEquals(now - 2 * 86_400_000L, AuditText.parseInstant("-2d", now));
    assertEquals("2025-11-24T16:00:07.752Z", AuditText.instant(AuditText.parseInstant("2025-11-24T16:00:07.752Z", 0)));
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> AuditText.parseInstant("yesterday", now));
    assertTrue(e.getMessage().contains("-15m"), e.getMessage());
  }

  @Test
  void sinceAndUntilSelectIncidentsPeriodsFindingsAndClipLanes() {
    Recording r = AuditScenarios.switchoverAndBack();
    long second = r.mark("switchover-2");
    AuditReport late = AuditReplay.replay("f", r.events(), AuditQuery.all().since(second));
    assertEquals(List.of("switchover"), late.incidents().stream().map(Incident::kind).toList());
    assertEquals(2, late.incidents().get(0).nodeId());
    assertEquals("i2", late.incidents().get(0).id(), "ids do not depend on the window");
    assertEquals(List.of(2, 1), late.primaries().stream().map(AuditReport.WritablePeriod::nodeId).toList());
    for (Lane l : late.lanes()) {
      for (Segment s : l.segments()) assertTrue(s.from() >= second, "segment before the window: " + s);
    }
    AuditReport early = AuditReplay.replay("f", r.events(), AuditQuery.all().until(second - 1));
    assertEquals(List.of(1), early.incidents().stream().map(Incident::nodeId).toList());
    assertEquals(List.of(1, 2), early.primaries().stream().map(AuditReport.WritablePeriod::nodeId).toList());
    for (Lane l : early.lanes()) {
      for (Segment s : l.segments()) assertTrue(s.until() != null && s.until() <= second - 1, s.toString());
    }
    AuditReport none = AuditReplay.replay("f", r.events(), AuditQuery.all().lanes(false));
    assertNull(none.lanes());
  }

  static Document svgOf(String html) throws Exception {
    int from = html.indexOf("<svg");
    int to = html.indexOf("</svg>") + "</svg>".length();
    assertTrue(from >= 0 && to > from, "no inline SVG");
    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setNamespaceAware(false);
    return f.newDocumentBuilder().parse(new ByteArrayInputStream(html.substring(from, to)
        .getBytes(StandardCharsets.UTF_8)));
  }

  static int count(Document d, String xpath) throws Exception {
    return ((Number) XPathFactory.newInstance().newXPath().evaluate("count(" + xpath + ")", d,
        XPathConstants.NUMBER)).intValue();
  }

  @Test
  void timelinePageHasOneLanePerNodeAndOneMarkerPerIncident() throws Exception {
    Recording r = AuditScenarios.threeNodeElection(100);
    AuditReport a = AuditReplay.replay("f", r.events(), AuditQuery.all());
    String html = TimelinePage.render(a);
    assertTrue(html.startsWith("<!DOCTYPE html>"));
    for (String external : List.of("<script", "src=", "href=", "url(", "@import", "<link")) {
      assertFalse(html.contains(external), "the page must be self-contained: found " + external);
    }
    Document svg = svgOf(html);
    assertEquals(3, count(svg, "//g[@class='lane']"));
    assertEquals(a.incidents().size(), count(svg, "//g[@class='incident']"));
    assertEquals(1, count(svg, "//g[@class='incident' and @data-kind='automatic-failover']"));
    assertTrue(count(svg, "//g[@class='lane' and @data-node-id='3']/rect[contains(@class,'role-writable')]") >= 1);
    assertTrue(count(svg, "//g[@class='lane' and @data-node-id='1']/rect[@class='lease-tail']") == 1);
    assertTrue(count(svg, "//g[@class='incident']/line[@class='phase' and @data-phase='writes_reopened']") == 1);
    int segments = a.lanes().stream().mapToInt(l -> l.segments().size()).sum();
    assertEquals(segments, count(svg, "//rect[contains(@class,'segment')]"));
    assertEquals(a.findings().size(), count(svg, "//g[@class='finding']"));
  }

  @Test
  void timelinePageEscapesNamesAndShowsFindings() throws Exception {
    JournalBuilder j = new JournalBuilder();
    j.plus(10).add(new FormationEvent.NodeRegistered(1, "a<b>&\"c'", new NodeAddress("h", 5432), "http://h:1",
        NodeSettings.DEFAULT, "x", j.now));
    j.decide("register", true, 1, io.pgwarden.model.NodeState.SINGLE);
    j.plus(10).add(new FormationEvent.NodeRegistered(2, "b", new NodeAddress("h", 5433), "http://h:2",
        NodeSettings.DEFAULT, "y", j.now));
    j.decide("bogus", true, 2, io.pgwarden.model.NodeState.SINGLE);
    AuditReport a = j.audit();
    String html = TimelinePage.render(a);
    Document svg = svgOf(html);
    assertEquals(2, count(svg, "//g[@class='lane']"));
    assertEquals("a<b>&\"c'", ((String) XPathFactory.newInstance().newXPath().evaluate(
        "//g[@class='lane' and @data-node-id='1']/@data-node", svg, XPathConstants.STRING)));
    assertEquals(1, count(svg, "//g[@class='finding' and @data-severity='critical']"));
    assertTrue(html.contains("<tr class=\"severity-critical\">"));
    assertNotNull(a.findings().get(0));
  }
}
