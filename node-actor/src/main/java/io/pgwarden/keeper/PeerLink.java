package io.pgwarden.keeper;

import io.pgwarden.model.PeerInfo;
import io.pgwarden.persistence.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Failsafe traffic between keepers: a primary whose controller is unreachable asks each peer's keeper
 * API ({@code POST <keeper_api>/keeper/v1/promise}) to confirm its term and promise not to promote.
 */
public interface PeerLink {
  /** The path of the promise endpoint on every keeper API. */
  String PROMISE_PATH = "/keeper/v1/promise";

  /** The request body: who asks, and the term it believes current. */
  record PromiseRequest(Integer primaryId, Long term) {}

  /** The answer: the term the peer knows, whether it promised, and why (not). */
  record Answer(int nodeId, long term, boolean ok, String reason) {}

  CompletableFuture<Answer> ask(PeerInfo peer, int primaryId, long term);

  /** Over HTTP/JSON, each request bounded by {@code timeout}. */
  static PeerLink http(Duration timeout) {
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(timeout).build();
    return (peer, primaryId, term) -> {
      if (peer.keeperApi() == null || peer.keeperApi().isBlank()) {
        return CompletableFuture.failedFuture(new IllegalStateException("node " + peer.nodeId()
            + " registered no keeper API address"));
      }
      String base = peer.keeperApi().endsWith("/") ? peer.keeperApi().substring(0, peer.keeperApi().length() - 1)
          : peer.keeperApi();
      HttpRequest req;
      try {
        req = HttpRequest.newBuilder(URI.create(base + PROMISE_PATH)).timeout(timeout)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(Json.write(new PromiseRequest(primaryId, term)))).build();
      } catch (IllegalArgumentException e) {
        return CompletableFuture.failedFuture(e);
      }
      return client.sendAsync(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8)).thenApply(r -> {
        if (r.statusCode() != 200) {
          throw new IllegalStateException("node " + peer.nodeId() + " answered HTTP " + r.statusCode() + ": "
              + r.body());
        }
        return Json.read(r.body(), Answer.class);
      });
    };
  }
}
