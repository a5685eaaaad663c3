package io.pgwarden.api;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import io.pgwarden.model.NodeReport;
import io.pgwarden.model.ReportReply;
import io.pgwarden.model.TermSeq;
import io.pgwarden.persistence.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The client of the HTTP API, used by the keeper (register, report) and the CLI (everything else).
 * Every refusal comes back as an {@link ApiException} carrying the server's status, error code and
 * message; when no answer came at all (connection refused, timeout) the status is 0 and the code
 * "unreachable" or "timeout". Thread-safe.
 */
public final class ApiClient {
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
  private static final String JSON = "application/json";

  private final URI base;
  private final String token;
  private final Duration timeout;
  private final HttpClient http;

  /** A client with the default timeout and the JVM's trusted certificates. */
  public ApiClient(URI base, String token) {
    this(base, token, DEFAULT_TIMEOUT, null);
  }

  /**
   * @param base the server, e.g. http://127.0.0.1:8080 (a path after it is kept as a prefix)
   * @param token an operator token or a node credential; null for the open routes only
   * @param timeout how long to wait for an answer (a report's long-poll wait is added on top)
   * @param ssl trust for HTTPS, e.g. {@link #trusting(Path)}; null for the JVM's defaults
   */
  public ApiClient(URI base, String token, Duration timeout, SSLContext ssl) {
    String b = base.toString();
    this.base = URI.create(b.endsWith("/") ? b.substring(0, b.length() - 1) : b);
    this.token = token;
    this.timeout = timeout;
    HttpClient.Builder builder = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(timeout.compareTo(Duration.ofSeconds(5)) < 0 ? timeout : Duration.ofSeconds(5));
    if (ssl != null) builder.sslContext(ssl);
    this.http = builder.build();
  }

  private ApiClient(HttpClient http, URI base, String token, Duration timeout) {
    this.base = base;
    this.token = token;
    this.timeout = timeout;
    this.http = http;
  }

  /** The same server and connection pool, another credential (many simulated nodes share one pool). */
  public ApiClient withToken(String otherToken) {
    return new ApiClient(http, base, otherToken, timeout);
  }

  public URI base() {
    return base;
  }

  /** An SSLContext that trusts the certificates in a PEM file (e.g. the controller's self-signed one). */
  public static SSLContext trusting(Path pemCertificates) {
    try (InputStream in = Files.newInputStream(pemCertificates)) {
      KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
      ks.load(null, null);
      int i = 0;
      for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        ks.setCertificateEntry("cert-" + i++, c);
      }
      if (i == 0) throw new IllegalArgumentException("no certificate in " + pemCertificates);
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ks);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return ctx;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + pemCertificates, e);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot use the certificates in " + pemCertificates + ": " + e.getMessage(), e);
    }
  }

  // ---- formations --------------------------------------------------------------------------------

  public Dto.FormationSummary createFormation(Dto.CreateFormation request) {
    return call(post("/api/v1/formations", request), Dto.FormationSummary.class);
  }

  private record FormationList(List<Dto.FormationSummary> formations) {}

  public List<Dto.FormationSummary> formations() {
    return call(get("/api/v1/formations"), FormationList.class).formations();
  }

  public Dto.FormationSummary formation(String name) {
    return call(get(f(name)), Dto.FormationSummary.class);
  }

  public void dropFormation(String name, String reason) {
    String q = reason == null || reason.isEmpty() ? "" : "?reason=" + enc(reason);
    call(builder(f(name) + q).DELETE(), JsonNode.class);
  }

  // ---- nodes -------------------------------------------------------------------------------------

  /** Registers a node (needs an operator token); the answer carries the node's own credential, once. */
  public Dto.Registration register(String formation, Dto.RegisterNode request) {
    return call(post(f(formation) + "/nodes", request), Dto.Registration.class);
  }

  /**
   * A keeper's report (needs the node's own credential). When the node's goal is not newer than
   * {@code known}, the server may hold the answer up to {@code wait} (it caps the wait, 5 s by default)
   * and answers at once when the goal changes.
   */
  public ReportReply report(String formation, int nodeId, NodeReport report, TermSeq known, Duration wait) {
    return join(reportAsync(formation, nodeId, report, known, wait));
  }

  public CompletableFuture<ReportReply> reportAsync(String formation, int nodeId, NodeReport report, TermSeq known,
      Duration wait) {
    TermSeq k = known == null ? TermSeq.NONE : known;
    long waitMs = wait == null ? 0 : Math.max(0, wait.toMillis());
    HttpRequest.Builder b = builder(f(formation) + "/nodes/" + nodeId + "/report?known=" + k.term() + "." + k.seq()
        + "&wait_ms=" + waitMs)
        .timeout(timeout.plusMillis(waitMs))
        .header("Content-Type", JSON)
        .POST(HttpRequest.BodyPublishers.ofString(Json.write(report)));
    return callAsync(b, Json.MAPPER.constructType(ReportReply.class));
  }

  // ---- views -------------------------------------------------------------------------------------

  public Dto.FormationState state(String formation) {
    return call(get(f(formation) + "/state"), Dto.FormationState.class);
  }

  public Dto.Uris uris(String formation) {
    return call(get(f(formation) + "/uri"), Dto.Uris.class);
  }

  public Dto.Settings settings(String formation) {
    return call(get(f(formation) + "/settings"), Dto.Settings.class);
  }

  /** A page of events, newest first; null arguments take the server's defaults. */
  /** The audit report of a formation's journal, as JSON (times in epoch ms; null: unbounded). */
  public com.fasterxml.jackson.databind.JsonNode audit(String formation, Long since, Long until, Long at) {
    List<String> q = new ArrayList<>();
    if (since != null) q.add("since=" + since);
    if (until != null) q.add("until=" + until);
    if (at != null) q.add("at=" + at);
    return call(get(f(formation) + "/audit" + (q.isEmpty() ? "" : "?" + String.join("&", q))),
        com.fasterxml.jackson.databind.JsonNode.class);
  }

  public Dto.EventPage events(String formation, Long before, Long sinceMillis, Integer limit) {
    List<String> q = new ArrayList<>();
    if (before != null) q.add("before=" + before);
    if (sinceMillis != null) q.add("since=" + sinceMillis);
    if (limit != null) q.add("limit=" + limit);
    return call(get(f(formation) + "/events" + (q.isEmpty() ? "" : "?" + String.join("&", q))), Dto.EventPage.class);
  }

  /**
   * The formation's events as they are journaled (server-sent events), from after {@code afterOrdering}
   * (null: from now on). The stream blocks while waiting for the next event; close it to disconnect.
   * When the server's stream fails, reading throws an ApiException (code "stream_failed"): reconnect
   * after the last ordering seen.
   */
  public Stream<Dto.EventView> streamEvents(String formation, Long afterOrdering) {
    HttpRequest.Builder b = builder(f(formation) + "/events/stream" + (afterOrdering == null ? "" : "?after=" + afterOrdering))
        .header("Accept", "text/event-stream").GET();
    HttpResponse<Stream<String>> resp;
    try {
      resp = http.send(b.build(), HttpResponse.BodyHandlers.ofLines());
    } catch (IOException e) {
      throw unreachable(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiException(0, "interrupted", "interrupted while connecting to " + base);
    }
    Stream<String> lines = resp.body();
    if (resp.statusCode() != 200) {
      String text;
      try (lines) {
        text = String.join("\n", lines.limit(1000).toList());
      }
      throw error(resp.statusCode(), text);
    }
    Iterator<String> in = lines.iterator();
    Iterator<Dto.EventView> events = new Iterator<>() {
      private Dto.EventView next;

      @Override
      public boolean hasNext() {
        if (next != null) return true;
        StringBuilder data = new StringBuilder();
        String type = "message";
        while (in.hasNext()) {
          String line = in.next();
          if (line.isEmpty()) {
            if (!data.isEmpty()) {
              if (type.equals("error")) throw error(500, data.toString());
              next = Json.read(data.toString(), Dto.EventView.class);
              return true;
            }
            type = "message";
          } else if (line.startsWith("event:")) {
            type = line.substring(6).strip();
          } else if (line.startsWith("data:")) {
            if (!data.isEmpty()) data.append('\n');
            data.append(line.substring(line.startsWith("data: ") ? 6 : 5));
          }
          // other fields (id:, retry:) and comments (":...") carry nothing we need
        }
        return false;
      }

      @Override
      public Dto.EventView next() {
        if (!hasNext()) throw new NoSuchElementException();
        Dto.EventView e = next;
        next = null;
        return e;
      }
    };
    return StreamSupport.stream(Spliterators.spliteratorUnknownSize(events, Spliterator.ORDERED | Spliterator.NONNULL),
        false).onClose(lines::close);
  }

  // ---- operations --------------------------------------------------------------------------------

  /**
   * An operator action. The request's idempotency key (if any) is also sent as the Idempotency-Key
   * header: retrying with the same key returns the same operation.
   */
  public Dto.Operation perform(String formation, Dto.OperatorRequest request) {
    HttpRequest.Builder b = builder(f(formation) + "/actions").header("Content-Type", JSON)
        .POST(HttpRequest.BodyPublishers.ofString(Json.write(request)));
    if (request.idempotencyKey() != null && !request.idempotencyKey().isEmpty()) {
      b.header("Idempotency-Key", request.idempotencyKey());
    }
    return call(b, Dto.Operation.class);
  }

  public Dto.Operation operation(String formation, String operationId) {
    return call(get(f(formation) + "/operations/" + enc(operationId)), Dto.Operation.class);
  }

  /** Polls an operation until it succeeded or failed, or {@code max} passed (then returns it as it is). */
  public Dto.Operation awaitOperation(String formation, String operationId, Duration max, Duration every) {
    long end = System.nanoTime() + max.toNanos();
    while (true) {
      Dto.Operation op = operation(formation, operationId);
      if ("succeeded".equals(op.status()) || "failed".equals(op.status()) || System.nanoTime() >= end) return op;
      try {
        Thread.sleep(every.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return op;
      }
    }
  }

  // ---- service endpoints -------------------------------------------------------------------------

  /** True when the server answers /health with 200; false when it answers otherwise or not at all. */
  public boolean health() {
    return probe("/health");
  }

  /** True when the controller is ready (journal recovered, supervisors running). */
  public boolean ready() {
    return probe("/ready");
  }

  /** The Prometheus text of /metrics (sends the token when the client has one). */
  public String metrics() {
    return join(send(builder("/metrics").GET())).body();
  }

  private boolean probe(String path) {
    try {
      return http.send(builder(path).GET().build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  // ---- plumbing ----------------------------------------------------------------------------------

  private static String f(String formation) {
    return "/api/v1/formations/" + enc(formation);
  }

  private static String enc(String segment) {
    return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private HttpRequest.Builder builder(String pathAndQuery) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + pathAndQuery)).timeout(timeout)
        .header("Accept", JSON).header("User-Agent", "pgwarden");
    if (token != null && !token.isEmpty()) b.header("Authorization", "Bearer " + token);
    return b;
  }

  private HttpRequest.Builder get(String path) {
    return builder(path).GET();
  }

  private HttpRequest.Builder post(String path, Object body) {
    return builder(path).header("Content-Type", JSON).POST(HttpRequest.BodyPublishers.ofString(Json.write(body)));
  }

  private <T> T call(HttpRequest.Builder b, Class<T> type) {
    return join(callAsync(b, Json.MAPPER.constructType(type)));
  }

  private <T> CompletableFuture<T> callAsync(HttpRequest.Builder b, JavaType type) {
    return send(b).thenApply(resp -> {
      try {
        return Json.MAPPER.readValue(resp.body(), type);
      } catch (IOException e) {
        throw new ApiException(resp.statusCode(), "bad_response",
            "the server answered with JSON this client cannot read: " + e.getMessage());
      }
    });
  }

  /** Sends; a 2xx answer completes the future, anything else fails it with an ApiException. */
  private CompletableFuture<HttpResponse<String>> send(HttpRequest.Builder b) {
    return http.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8))
        .handle((resp, err) -> {
          if (err != null) {
            Throwable c = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
            throw c instanceof ApiException a ? a : unreachable(c);
          }
          if (resp.statusCode() / 100 != 2) throw error(resp.statusCode(), resp.body());
          return resp;
        });
  }

  private ApiException unreachable(Throwable c) {
    if (c instanceof HttpTimeoutException) {
      return new ApiException(0, "timeout", "no answer from " + base + " in time: " + c.getMessage());
    }
    String why = c instanceof ConnectException ? "connection refused" : c.toString();
    return new ApiException(0, "unreachable", "cannot reach " + base + ": " + why);
  }

  /** The ApiException for an error answer: our JSON shape when there is one, else the raw text. */
  static ApiException error(int status, String body) {
    try {
      JsonNode n = Json.MAPPER.readTree(body);
      if (n != null && n.hasNonNull("error")) {
        return new ApiException(status, n.get("error").asText(), n.path("message").asText(""));
      }
    } catch (IOException ignored) {
      // not JSON: fall through
    }
    String text = body == null ? "" : body.strip();
    if (text.length() > 300) text = text.substring(0, 300) + "...";
    return new ApiException(status, ApiErrors.codeFor(status), text.isEmpty() ? "HTTP " + status : text);
  }

  private static <T> T join(CompletableFuture<T> f) {
    try {
      return f.get();
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof ApiException a) throw a;
      if (c instanceof RuntimeException r) throw r;
      throw new IllegalStateException(c);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      f.cancel(true);
      throw new ApiException(0, "interrupted", "interrupted while waiting for the API");
    }
  }
}
