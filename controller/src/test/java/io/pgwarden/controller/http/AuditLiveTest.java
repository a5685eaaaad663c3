package io.pgwarden.controller.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgwarden.api.Dto;
import io.pgwarden.cli.Pgwarden;
import io.pgwarden.controller.audit.AuditReport;
import io.pgwarden.persistence.Json;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The audit of a running controller's journal: API route, CLI, and the timeline page in a browser. */
class AuditLiveTest {

  @Test
  void switchoverIsAuditedThroughTheApiTheCliAndTheTimelinePage(@TempDir Path tmp) throws Exception {
    try (LiveController c = LiveController.start("audit", LiveController.FAST)) {
      c.api.createFormation(new Dto.CreateFormation("f", null, null, null, "test"));
      SimKeepers k = c.keepers("f");
      k.add("a");
      k.awaitSettled(Duration.ofSeconds(20));
      k.add("b");
      k.awaitSettled(Duration.ofSeconds(20));
      c.api.perform("f", new Dto.OperatorRequest("switchover", null, null, null, null, "audit test", "sw-1"));
      SimKeepers.await(() -> k.writer() != null && k.writer().name.equals("b"), Duration.ofSeconds(20), "b primary");
      k.awaitSettled(Duration.ofSeconds(20));

      AuditReport r = Json.MAPPER.treeToValue(c.api.audit("f", null, null, null), AuditReport.class);
      assertEquals(2, r.nodes().size());
      assertTrue(r.primaries().size() >= 2, "a then b writable: " + r.primaries());
      assertTrue(r.incidents().stream().anyMatch(i -> i.kind().equals("switchover")), "incidents: " + r.incidents());
      assertTrue(r.findings().stream().noneMatch(f -> f.severity().equals("critical")), "findings: " + r.findings());

      StringWriter out = new StringWriter();
      int rc = Pgwarden.run(new String[] {"audit", "--dir", c.dir.toString(), "--formation", "f"},
          new PrintWriter(out), new PrintWriter(new StringWriter()));
      assertEquals(0, rc);
      assertTrue(out.toString().contains("switchover"), out.toString());

      HttpClient http = HttpClient.newHttpClient();
      String page = c.base.resolve("/ui/formations/f/timeline").toString();
      HttpResponse<String> noAuth = http.send(HttpRequest.newBuilder(URI.create(page)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(401, noAuth.statusCode());
      assertTrue(noAuth.headers().allValues("WWW-Authenticate").toString().contains("Basic"));
      String basic = "Basic " + Base64.getEncoder().encodeToString(("admin:" + c.operatorToken)
          .getBytes(StandardCharsets.UTF_8));
      HttpResponse<String> html = http.send(HttpRequest.newBuilder(URI.create(page)).header("Authorization", basic)
          .build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, html.statusCode());
      assertTrue(html.headers().firstValue("Content-Type").orElse("").startsWith("text/html"));
      assertEquals(2, count(html.body(), "<g class=\"lane\""));

      Path bin = io.pgwarden.controller.audit.TimelineBrowserTest.chromium();
      if (bin == null && System.getenv("PGWARDEN_REQUIRE_BROWSER") != null) {
        throw new AssertionError("chromium is required (PGWARDEN_REQUIRE_BROWSER) but not installed");
      }
      if (bin != null) {
        // Headless Chromium cannot be given credentials from its command line: it goes through a local
        // proxy that adds the Authorization header, as an authenticating reverse proxy would.
        try (AuthProxy proxy = new AuthProxy(c.base, basic)) {
          String dom = io.pgwarden.controller.audit.TimelineBrowserTest.run(bin, Files.createDirectory(
              tmp.resolve("profile")), "--dump-dom", proxy.base() + "ui/formations/f/timeline");
          assertEquals(2, count(dom, "<g class=\"lane\""), "lanes in the browser's DOM");
          assertEquals(r.incidents().size(), count(dom, "<g class=\"incident\""), "incident markers in the DOM");
        }
      }
    }
  }

  /** Forwards GETs to the controller with an Authorization header. */
  static final class AuthProxy implements AutoCloseable {
    final com.sun.net.httpserver.HttpServer server;

    AuthProxy(URI target, String authorization) throws java.io.IOException {
      server = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
      HttpClient http = HttpClient.newHttpClient();
      server.createContext("/", ex -> {
        try {
          HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(target.resolve(ex.getRequestURI().toString()))
              .header("Authorization", authorization).build(), HttpResponse.BodyHandlers.ofByteArray());
          r.headers().firstValue("Content-Type").ifPresent(v -> ex.getResponseHeaders().add("Content-Type", v));
          ex.sendResponseHeaders(r.statusCode(), r.body().length);
          ex.getResponseBody().write(r.body());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          ex.sendResponseHeaders(502, -1);
        } finally {
          ex.close();
        }
      });
      server.start();
    }

    String base() {
      return "http://127.0.0.1:" + server.getAddress().getPort() + "/";
    }

    @Override
    public void close() {
      server.stop(0);
    }
  }

  static int count(String s, String needle) {
    int n = 0;
    for (int i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + 1)) n++;
    return n;
  }
}
