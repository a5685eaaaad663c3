package io.pgwarden.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgwarden.persistence.Json;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** Raw HTTP for tests: any method, header and body, and the answer as status, headers and text. */
final class TestHttp {
  record Resp(int status, HttpHeaders headers, String body) {
    JsonNode json() {
      try {
        return Json.MAPPER.readTree(body);
      } catch (IOException e) {
        throw new AssertionError("not JSON (status " + status + "): " + body, e);
      }
    }

    String contentType() {
      return headers.firstValue("Content-Type").orElse("");
    }

    String header(String name) {
      return headers.firstValue(name).orElse(null);
    }

    /** Asserts the error shape and returns the error code. */
    String errorCode() {
      JsonNode n = json();
      if (!n.hasNonNull("error") || !n.has("message") || n.size() != 2) {
        throw new AssertionError("not an error body: " + body);
      }
      return n.get("error").asText();
    }

    @Override
    public String toString() {
      return status + " " + body;
    }
  }

  final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  final URI base;

  TestHttp(URI base) {
    this.base = base;
  }

  Resp send(String method, String path, String token, String contentType, String body, String... headers) {
    return send(method, path, token, contentType, body == null ? null : body.getBytes(StandardCharsets.UTF_8), headers);
  }

  Resp send(String method, String path, String token, String contentType, byte[] body, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
    if (token != null) b.header("Authorization", "Bearer " + token);
    if (contentType != null) b.header("Content-Type", contentType);
    for (int i = 0; i + 1 < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
    try {
      HttpResponse<InputStream> r = client.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
      String text;
      try (InputStream in = r.body()) {
        if (r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream")) {
          text = ""; // a live stream never ends: the caller only looks at status and headers
        } else {
          text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
      }
      return new Resp(r.statusCode(), r.headers(), text);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(method + " " + path + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  Resp get(String path, String token) {
    return send("GET", path, token, null, (byte[]) null);
  }

  Resp post(String path, String token, String json, String... headers) {
    return send("POST", path, token, "application/json", json, headers);
  }
}
