package io.pgwarden.controller.http;

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

/** Plain HTTP for tests: any method, headers and body; the answer as status, headers and text. */
public final class RawHttp {
  /** An answer. An event stream's body is not read (it does not end). */
  public record Resp(int status, HttpHeaders headers, String body) {
    public JsonNode json() {
      try {
        return Json.MAPPER.readTree(body);
      } catch (IOException e) {
        throw new AssertionError("not JSON (status " + status + "): " + body, e);
      }
    }

    public <T> T as(Class<T> type) {
      return Json.read(body, type);
    }

    public String contentType() {
      return headers.firstValue("Content-Type").orElse("");
    }

    public String header(String name) {
      return headers.firstValue(name).orElse(null);
    }

    /** Checks the error shape {"error": code, "message": text} and returns the code. */
    public String error() {
      JsonNode n = json();
      if (n.size() != 2 || !n.path("error").isTextual() || !n.path("message").isTextual()) {
        throw new AssertionError("not an error body (status " + status + "): " + body);
      }
      return n.get("error").asText();
    }

    @Override
    public String toString() {
      return status + " " + (body.length() > 300 ? body.substring(0, 300) + "..." : body);
    }
  }

  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  private final URI base;

  public RawHttp(URI base) {
    this.base = base;
  }

  public Resp send(String method, String path, String token, String contentType, byte[] body, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(15))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
    if (token != null) b.header("Authorization", "Bearer " + token);
    if (contentType != null) b.header("Content-Type", contentType);
    for (int i = 0; i + 1 < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
    try {
      HttpResponse<InputStream> r = client.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
      String text;
      try (InputStream in = r.body()) {
        text = r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream") ? ""
            : new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      return new Resp(r.statusCode(), r.headers(), text);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(method + " " + path + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public Resp send(String method, String path, String token, String contentType, String body, String... headers) {
    return send(method, path, token, contentType, body == null ? null : body.getBytes(StandardCharsets.UTF_8),
        headers);
  }

  public Resp get(String path, String token) {
    return send("GET", path, token, null, (byte[]) null);
  }

  public Resp post(String path, String token, String json, String... headers) {
    return send("POST", path, token, "application/json", json, headers);
  }
}
