package io.pgwarden.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgwarden.model.NodeReport;
import io.pgwarden.model.ReportReply;
import io.pgwarden.model.Requester;
import io.pgwarden.model.TermSeq;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.Test;

/**
 * A controller that fails in every way it can: thrown or failed, ApiException, bad input, or a bug.
 * The API answers each in the JSON error shape; only the bug is a 500, and it shows no detail.
 */
class ApiFailureTest {

  /** Every call fails; how depends on the route. */
  static final class Failing implements ControllerService {
    @Override
    public CompletionStage<Dto.FormationSummary> createFormation(Dto.CreateFormation r, Requester by) {
      throw new IllegalArgumentException("dbname must not be empty"); // thrown, bad input
    }

    @Override
    public CompletionStage<List<Dto.FormationSummary>> formations() {
      throw new IllegalStateException("secret internal detail"); // thrown, a bug
    }

    @Override
    public CompletionStage<Void> dropFormation(String f, Requester by) {
      throw ApiException.conflict("formation has nodes"); // thrown, refused
    }

    @Override
    public CompletionStage<Dto.Registration> register(String f, Dto.RegisterNode r) {
      return CompletableFuture.failedFuture(new CompletionException(new IllegalArgumentException("port must be between 1 and 65535, got 0")));
    }

    @Override
    public CompletionStage<ReportReply> report(String f, int id, NodeReport r, TermSeq k, Duration w) {
      return CompletableFuture.failedFuture(ApiException.unavailable("controller is restarting"));
    }

    @Override
    public CompletionStage<Dto.FormationState> state(String f) {
      return CompletableFuture.failedFuture(new NullPointerException("secret internal detail")); // failed, a bug
    }

    @Override
    public CompletionStage<Dto.Uris> uris(String f) {
      return CompletableFuture.failedFuture(new CompletionException(ApiException.notFound("no formation '" + f + "'")));
    }

    @Override
    public CompletionStage<Dto.Settings> settings(String f) {
      return null;
    }

    @Override
    public CompletionStage<Dto.EventPage> events(String f, Long b, Long s, int l) {
      return CompletableFuture.completedFuture(new Dto.EventPage(List.of(), null));
    }

    @Override
    public Source<Dto.EventView, NotUsed> liveEvents(String f, long after) {
      return Source.failed(new IllegalStateException("journal gone"));
    }

    @Override
    public CompletionStage<Dto.Operation> perform(String f, Dto.OperatorRequest r, Requester by) {
      throw new IllegalArgumentException("candidate priority must be between 0 and 100, got 200");
    }

    @Override
    public CompletionStage<Dto.Operation> operation(String f, String id) {
      return CompletableFuture.failedFuture(ApiException.forbidden("not yours"));
    }

    @Override
    public Optional<Principal.Node> nodeByCredentialHash(String h) {
      return Optional.of(new Principal.Node("f", 1));
    }

    @Override
    public String metrics() {
      throw new IllegalStateException("metrics broke");
    }

    @Override
  public java.util.concurrent.CompletionStage<Object> audit(String formation, Long since, Long until, Long at) {
    return java.util.concurrent.CompletableFuture.failedFuture(ApiException.notFound("no audit in this fake"));
  }

  @Override
  public java.util.concurrent.CompletionStage<String> timelinePage(String formation, Long since, Long until) {
    return java.util.concurrent.CompletableFuture.failedFuture(ApiException.notFound("no timeline in this fake"));
  }

  @Override
    public boolean ready() {
      return false;
    }
  }

  @Test
  void everyFailureIsJson() throws Exception {
    ActorTestKit kit = ActorTestKit.create("api-failure-test");
    String op = "pgwo_operator";
    Authenticator auth = c -> c.equals(op) ? Optional.of(new Principal.Operator("alice"))
        : c.startsWith("pgwn_") ? Optional.of(new Principal.Node("f", 1)) : Optional.empty();
    try (ApiServer server = ApiServer.start(kit.system(), new Failing(), auth, ApiConfig.loopback(0))) {
      TestHttp http = new TestHttp(server.baseUri());
      check(http.post("/api/v1/formations", op, "{\"name\":\"f\"}"), 400, "bad_request", "dbname must not be empty");
      TestHttp.Resp bug = http.get("/api/v1/formations", op);
      check(bug, 500, "internal", "internal error");
      assertFalse(bug.body().contains("secret"), bug.body());
      check(http.send("DELETE", "/api/v1/formations/f", op, null, (byte[]) null), 409, "conflict", "has nodes");
      check(http.post("/api/v1/formations/f/nodes", op, "{\"name\":\"n\",\"host\":\"h\",\"port\":1}"), 400, "bad_request", "port must be");
      check(http.post("/api/v1/formations/f/nodes/1/report", "pgwn_x", ApiServerTest.REPORT_JSON), 503, "unavailable", "restarting");
      TestHttp.Resp npe = http.get("/api/v1/formations/f/state", op);
      check(npe, 500, "internal", "internal error");
      assertFalse(npe.body().contains("secret"), npe.body());
      check(http.get("/api/v1/formations/f/uri", op), 404, "not_found", "no formation 'f'");
      check(http.get("/api/v1/formations/f/settings", op), 500, "internal", "internal error");
      check(http.post("/api/v1/formations/f/actions", op, "{\"kind\":\"failover\"}"), 400, "bad_request", "candidate priority");
      check(http.get("/api/v1/formations/f/operations/x", op), 403, "forbidden", "not yours");
      check(http.get("/metrics", op), 500, "internal", "internal error");
      check(http.get("/ready", null), 503, "unavailable", "recovering");
      TestHttp.Resp stream = http.get("/api/v1/formations/f/events/stream", op);
      assertEquals(200, stream.status()); // the stream starts; its failure ends it with an error event
      ApiException ended = org.junit.jupiter.api.Assertions.assertThrows(ApiException.class, () -> {
        try (var events = new ApiClient(server.baseUri(), op).streamEvents("f", null)) {
          events.findFirst();
        }
      });
      assertEquals("stream_failed", ended.code());
      assertTrue(new ApiClient(server.baseUri(), null).health());
    } finally {
      kit.shutdownTestKit();
    }
  }

  private static void check(TestHttp.Resp r, int status, String code, String messagePart) {
    assertEquals(status, r.status(), r.toString());
    assertEquals(code, r.errorCode(), r.toString());
    assertTrue(r.json().get("message").asText().contains(messagePart), r.toString());
  }
}
