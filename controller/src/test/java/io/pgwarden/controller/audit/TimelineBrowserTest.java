package io.pgwarden.controller.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgwarden.controller.core.AuditScenarios;
import io.pgwarden.controller.core.AuditScenarios.Recording;
import io.pgwarden.os.Command;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The timeline page as a browser sees it: headless Chromium (Debian's {@code chromium}) loads it from a file,
 * and the DOM it builds has one lane per node and one marker per incident. Skipped where Chromium is missing.
 */
public class TimelineBrowserTest {
  static final List<String> FLAGS = List.of("--headless", "--no-sandbox", "--disable-gpu",
      "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
      "--disable-extensions", "--window-size=1300,900");

  public static Path chromium() {
    for (String p : List.of("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")) {
      if (Files.isExecutable(Path.of(p))) return Path.of(p);
    }
    return null;
  }

  static int count(String dom, String regex) {
    Matcher m = Pattern.compile(regex).matcher(dom);
    int n = 0;
    while (m.find()) n++;
    return n;
  }

  public static String run(Path bin, Path profile, String... args) {
    List<String> argv = new ArrayList<>();
    argv.add(bin.toString());
    argv.addAll(FLAGS);
    argv.add("--user-data-dir=" + profile);
    argv.addAll(List.of(args));
    StringBuilder out = new StringBuilder();
    Command.Result r = Command.of("chromium", argv, Duration.ofSeconds(90)).withEnv(java.util.Map.of("HOME",
        profile.toString())).run(line -> out.append(line).append('\n'));
    assertTrue(r.ok(), r.describe());
    return out.toString();
  }

  @Test
  void chromiumSeesOneLanePerNodeAndOneMarkerPerIncident(@TempDir Path tmp) throws Exception {
    Path bin = chromium();
    if (bin == null && System.getenv("PGWARDEN_REQUIRE_BROWSER") != null) {
      throw new AssertionError("chromium is required (PGWARDEN_REQUIRE_BROWSER) but not installed");
    }
    Assumptions.assumeTrue(bin != null, "chromium is not installed (apt-get install -y chromium)");
    Recording r = AuditScenarios.threeNodeElection(4096);
    AuditReport a = AuditReplay.replay(r.formation(), r.events(), AuditQuery.all());
    Path page = tmp.resolve("timeline.html");
    Files.writeString(page, TimelinePage.render(a));

    String dom = run(bin, Files.createDirectory(tmp.resolve("profile-1")), "--dump-dom", page.toUri().toString());
    assertTrue(dom.contains("<svg"), "no SVG in the DOM:\n" + dom.substring(0, Math.min(2000, dom.length())));
    assertEquals(3, count(dom, "<g class=\"lane\""), "lanes");
    assertEquals(a.incidents().size(), count(dom, "<g class=\"incident\""), "incident markers");
    assertEquals(1, count(dom, "<g class=\"incident\" data-incident-id=\"i1\" data-kind=\"automatic-failover\""));
    assertTrue(count(dom, "class=\"segment role-writable\"") >= 2, "writable segments on a and c");

    Path png = tmp.resolve("timeline.png");
    run(bin, Files.createDirectory(tmp.resolve("profile-2")), "--screenshot=" + png, page.toUri().toString());
    byte[] img = Files.readAllBytes(png);
    assertTrue(img.length > 10_000 && img[1] == 'P' && img[2] == 'N' && img[3] == 'G', "a PNG screenshot");
    Path keep = Path.of("target", "audit-timeline.png");
    Files.createDirectories(keep.getParent());
    Files.copy(png, keep, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }
}
