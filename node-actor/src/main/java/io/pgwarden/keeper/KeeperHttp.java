package io.pgwarden.keeper;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgwarden.persistence.Json;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.Allow;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.SystemMaterializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The keeper's own HTTP server: the peers' failsafe endpoint and the Patroni-compatible health checks.
 *
 * <ul>
 *   <li>{@code POST /keeper/v1/promise} with {@code {"primary_id": N, "term": T}}: a primary whose
 *       controller is unreachable asks this keeper to confirm its term and promise not to promote; the
 *       answer {@code {"node_id", "term", "ok", "reason"}} is the step function's (AnswerPeer). Both
 *       fields are required (400 otherwise). There is no authentication: on a shared network any client
 *       that can reach this port can ask for promises (which only ever delay this node's own promotion)
 *       — bind it to an address only the formation's hosts reach; see docs/keeper.md.</li>
 *   <li>GET, HEAD and OPTIONS on the health paths ({@link HealthCheck}); any other path answers 503.</li>
 * </ul>
 */
public final class KeeperHttp implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(KeeperHttp.class);
  private static final Duration PROMISE_TIMEOUT = Duration.ofSeconds(2);

  private final ServerBinding binding;

  private KeeperHttp(ServerBinding binding) {
    this.binding = binding;
  }

  /**
   * Binds and waits (up to 15 s) until bound.
   *
   * @throws IllegalStateException when the address cannot be bound, with the reason
   */
  public static KeeperHttp start(ActorSystem<?> system, String host, int port, Supplier<KeeperStatus> status,
      ActorRef<KeeperActor.Msg> keeper, KeeperClock clock, long livenessMs) {
    return start(system, host, port, status, () -> keeper, clock, livenessMs);
  }

  /** As above, with the keeper actor known later (a promise asked before it runs is answered 503). */
  public static KeeperHttp start(ActorSystem<?> system, String host, int port, Supplier<KeeperStatus> status,
      Supplier<ActorRef<KeeperActor.Msg>> keeper, KeeperClock clock, long livenessMs) {
    Materializer mat = SystemMaterializer.get(system).materializer();
    Handler h = new Handler(status, keeper, clock, livenessMs, mat);
    org.apache.pekko.japi.function.Function<HttpRequest, CompletionStage<HttpResponse>> f = h::handle;
    try {
      ServerBinding b = Http.get(system).newServerAt(host, port).bind(f).toCompletableFuture()
          .get(15, TimeUnit.SECONDS);
      log.info("keeper API listening on http://{}:{}", b.localAddress().getHostString(), b.localAddress().getPort());
      return new KeeperHttp(b);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      throw new IllegalStateException("cannot serve the keeper API on " + host + ":" + port + ": "
          + (c.getMessage() == null ? c.toString() : c.getMessage()), c);
    } catch (TimeoutException e) {
      throw new IllegalStateException("binding the keeper API on " + host + ":" + port + " timed out", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while binding the keeper API", e);
    }
  }

  public int port() {
    return binding.localAddress().getPort();
  }

  @Override
  public void close() {
    try {
      binding.terminate(Duration.ofSeconds(1)).toCompletableFuture().get(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      log.warn("keeper API did not stop cleanly: {}", e.toString());
    }
  }

  private record Handler(Supplier<KeeperStatus> status, Supplier<ActorRef<KeeperActor.Msg>> keeper, KeeperClock clock,
      long livenessMs, Materializer mat) {

    CompletionStage<HttpResponse> handle(HttpRequest req) {
      String path = req.getUri().path();
      if (path.equals(PeerLink.PROMISE_PATH)) {
        if (req.method() != HttpMethods.POST) {
          req.discardEntityBytes(mat);
          return CompletableFuture.completedFuture(error(405, "method_not_allowed", "use POST on " + path)
              .addHeader(Allow.create(HttpMethods.POST)));
        }
        return req.entity().toStrict(PROMISE_TIMEOUT.toMillis(), mat)
            .thenCompose(e -> promise(e.getData().utf8String()))
            .exceptionally(t -> error(400, "bad_request", "cannot read the request: " + t.getMessage()));
      }
      req.discardEntityBytes(mat);
      boolean readMethod = req.method() == HttpMethods.GET || req.method() == HttpMethods.HEAD
          || req.method() == HttpMethods.OPTIONS;
      if (HealthCheck.known(path) && !readMethod) {
        return CompletableFuture.completedFuture(error(405, "method_not_allowed", "health checks take GET, HEAD or"
            + " OPTIONS").addHeader(Allow.create(HttpMethods.GET, HttpMethods.HEAD, HttpMethods.OPTIONS)));
      }
      HealthCheck.Result r = HealthCheck.evaluate(status.get(), path, req.getUri().query().get("lag").orElse(null),
          clock.monoMs(), clock.wallMs(), livenessMs);
      return CompletableFuture.completedFuture(json(r.status(), r.body()));
    }

    private CompletionStage<HttpResponse> promise(String body) {
      Integer primaryId;
      Long term;
      try {
        JsonNode n = Json.MAPPER.readTree(body);
        if (n == null || !n.isObject()) throw new IllegalArgumentException("the body is not a JSON object");
        primaryId = n.hasNonNull("primary_id") && n.get("primary_id").canConvertToInt()
            ? n.get("primary_id").asInt() : null;
        term = n.hasNonNull("term") && n.get("term").canConvertToLong() ? n.get("term").asLong() : null;
      } catch (Exception e) {
        return CompletableFuture.completedFuture(error(400, "malformed_json", e.getMessage()));
      }
      if (primaryId == null || primaryId <= 0) {
        return CompletableFuture.completedFuture(error(400, "bad_request", "'primary_id' (the asking node's id) is"
            + " required and must be a positive integer"));
      }
      if (term == null || term < 0) {
        return CompletableFuture.completedFuture(error(400, "bad_request", "'term' (the term the asking node"
            + " believes current) is required and must not be negative"));
      }
      if (primaryId == status.get().nodeId()) {
        return CompletableFuture.completedFuture(error(400, "bad_request", "node " + primaryId
            + " cannot ask itself for a promise"));
      }
      ActorRef<KeeperActor.Msg> k = keeper.get();
      if (k == null) {
        return CompletableFuture.completedFuture(error(503, "unavailable", "the keeper is starting"));
      }
      CompletableFuture<PeerLink.Answer> answer = new CompletableFuture<>();
      k.tell(new KeeperActor.PromiseAsked(primaryId, term, answer));
      return answer.orTimeout(PROMISE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
          .thenApply(a -> json(200, a))
          .exceptionally(t -> error(503, "unavailable", "the keeper did not answer in time"));
    }

    private static HttpResponse json(int status, Object body) {
      return HttpResponse.create().withStatus(status)
          .withEntity(ContentTypes.APPLICATION_JSON, Json.write(body).getBytes(StandardCharsets.UTF_8));
    }

    private static HttpResponse error(int status, String code, String message) {
      return json(status, Map.of("error", code, "message", message == null ? "" : message));
    }
  }
}
