package io.pgwarden.api;

import io.pgwarden.model.NodeReport;
import io.pgwarden.model.Requester;
import io.pgwarden.model.TermSeq;
import io.pgwarden.persistence.Json;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.apache.pekko.NotUsed;
import org.apache.pekko.http.javadsl.marshallers.jackson.Jackson;
import org.apache.pekko.http.javadsl.marshalling.Marshaller;
import org.apache.pekko.http.javadsl.marshalling.sse.EventStreamMarshalling;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.RequestEntity;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.Location;
import org.apache.pekko.http.javadsl.model.sse.ServerSentEvent;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The routes of the HTTP API, version 1 (see docs/api.md). Every route authenticates before it reads a
 * body or calls the controller, so a request without a valid credential changes nothing.
 */
public final class ApiRoutes extends AllDirectives {
  public static final String PREFIX = "/api/v1";
  /** Operator actions that start work the controller carries out over time: 202 + Location. */
  public static final Set<String> LONG_ACTIONS = Set.of("failover", "switchover", "promotion", "maintenance-on",
      "maintenance-off");
  /** Operator actions applied at once: 200. */
  public static final Set<String> IMMEDIATE_ACTIONS = Set.of("drop-node", "set-candidate-priority",
      "set-replication-quorum", "set-number-sync-standbys", "set-failover-data-loss-allowed");
  static final int DEFAULT_EVENT_LIMIT = 100;
  static final int MAX_EVENT_LIMIT = 1000;
  private static final Pattern BEARER_TOKEN = Pattern.compile("[A-Za-z0-9._~+/=-]{1,512}");
  private static final Pattern IDEMPOTENCY_KEY = Pattern.compile("[\\x21-\\x7e]{1,200}");

  private final ControllerService service;
  private final Authenticator auth;
  private final ApiConfig config;

  public ApiRoutes(ControllerService service, Authenticator auth, ApiConfig config) {
    this.service = service;
    this.auth = auth;
    this.config = config;
  }

  private static <T> Marshaller<T, RequestEntity> json() {
    return Jackson.marshaller(Json.MAPPER);
  }

  private static <T> Unmarshaller<org.apache.pekko.http.javadsl.model.HttpEntity, T> json(Class<T> type) {
    return Jackson.unmarshaller(Json.MAPPER, type);
  }

  /**
   * The whole API, sealed: every rejection and exception inside answers in the JSON error shape. The
   * API always answers JSON (or an event stream / Prometheus text where documented) whatever the
   * request's Accept header says, so content negotiation can never refuse a request that already acted.
   */
  public Route route() {
    return mapRequest(r -> r.removeHeader("Accept").removeHeader("Accept-Charset"), () ->
        handleExceptions(ApiErrors.exceptionHandler(), () ->
            handleRejections(ApiErrors.rejectionHandler(), () ->
                withSizeLimit(config.maxBodyBytes(), () -> concat(
                    path("health", () -> get(() -> completeOK(Map.of("status", "ok"), json()))),
                    path("ready", () -> get(this::ready)),
                    path("metrics", () -> get(() -> config.openMetrics() ? metrics() : operator(op -> metrics()))),
                    pathPrefix("api", () -> pathPrefix("v1", this::v1)),
                    pathPrefix("ui", this::ui))))));
  }

  private Route ready() {
    if (service.ready()) return completeOK(Map.of("status", "ready"), json());
    return complete(ApiErrors.response(503, "unavailable", "the controller is still recovering its journal"));
  }

  private Route metrics() {
    return complete(HttpEntities.create(ContentTypes.TEXT_PLAIN_UTF8, service.metrics()));
  }

  private Route v1() {
    return pathPrefix("formations", () -> concat(
        pathEnd(() -> concat(
            post(() -> operator(op -> body(Dto.CreateFormation.class, req -> createFormation(op, req)))),
            get(() -> operator(op -> onSuccess(service.formations(),
                list -> completeOK(Map.of("formations", list), json())))))),
        pathPrefix(PathMatchers.segment(), this::formation)));
  }

  private Route formation(String f) {
    return concat(
        pathEnd(() -> concat(
            get(() -> operator(op -> onSuccess(service.formations(), list -> completeOK(list.stream()
                .filter(s -> s.name().equals(f)).findFirst()
                .orElseThrow(() -> ApiException.notFound("no formation '" + f + "'")), json())))),
            delete(() -> operator(op -> parameterOptional("reason", reason -> onSuccess(
                service.dropFormation(f, Requester.of(op.name(), reason.orElse(""))),
                v -> completeOK(Map.of("formation", f, "dropped", true), json()))))))),
        path("nodes", () -> post(() -> operator(op -> body(Dto.RegisterNode.class,
            req -> onSuccess(service.register(f, req), reg -> complete(StatusCodes.CREATED, reg, json())))))),
        path(PathMatchers.segment("nodes").slash(PathMatchers.integerSegment()).slash("report"),
            id -> post(() -> asNode(f, id, () -> report(f, id)))),
        path("state", () -> get(() -> operator(op -> onSuccess(service.state(f), s -> completeOK(s, json()))))),
        path("uri", () -> get(() -> operator(op -> onSuccess(service.uris(f), s -> completeOK(s, json()))))),
        path("settings", () -> get(() -> operator(op -> onSuccess(service.settings(f), s -> completeOK(s, json()))))),
        path("events", () -> get(() -> operator(op -> events(f)))),
        path(PathMatchers.segment("events").slash("stream"), () -> get(() -> operator(op -> stream(f)))),
        path(PathMatchers.segment("operations").slash(PathMatchers.segment()), id -> get(() -> operator(op ->
            onSuccess(service.operation(f, id), o -> completeOK(o, json()))))),
        path("actions", () -> post(() -> operator(op -> action(f, op)))),
        path("audit", () -> get(() -> operator(op -> window(since -> until -> parameterOptional("at", at ->
            onSuccess(service.audit(f, since, until, millis("at", at)), r -> completeOK(r, json()))))))));
  }

  /**
   * Browser pages. They take the same operator token as the API, also as HTTP Basic credentials (any
   * user name, the token as password), since a browser cannot add a bearer header by itself.
   */
  private Route ui() {
    return path(PathMatchers.segment("formations").slash(PathMatchers.segment()).slash("timeline"), f ->
        get(() -> operator(op -> window(since -> until -> onSuccess(service.timelinePage(f, since, until),
            html -> complete(HttpEntities.create(ContentTypes.TEXT_HTML_UTF8, html)))))));
  }

  private Route window(java.util.function.Function<Long, java.util.function.Function<Long, Route>> inner) {
    return parameterOptional("since", since -> parameterOptional("until", until ->
        inner.apply(millis("since", since)).apply(millis("until", until))));
  }

  private static Long millis(String name, java.util.Optional<String> v) {
    if (v.isEmpty() || v.get().isBlank()) return null;
    try {
      return java.time.Instant.parse(v.get()).toEpochMilli();
    } catch (java.time.format.DateTimeParseException e) {
      try {
        return Long.parseLong(v.get());
      } catch (NumberFormatException n) {
        throw ApiException.badRequest(name + " must be an ISO-8601 instant or epoch milliseconds, got '" + v.get() + "'");
      }
    }
  }

  private Route createFormation(Principal.Operator op, Dto.CreateFormation req) {
    Requester by = Requester.of(op.name(), req.reason());
    return onSuccess(service.createFormation(req, by), s -> complete(StatusCodes.CREATED,
        List.<HttpHeader>of(Location.create(PREFIX + "/formations/" + s.name())), s, json()));
  }

  private Route report(String f, int id) {
    return parameterOptional("known", known -> parameterOptional("wait_ms", waitMs -> {
      TermSeq k = known.map(ApiRoutes::parseTermSeq).orElse(TermSeq.NONE);
      Duration wait = waitMs.map(w -> Duration.ofMillis(parseLong("wait_ms", w, 0, Long.MAX_VALUE))).orElse(Duration.ZERO);
      Duration capped = wait.compareTo(config.maxReportWait()) > 0 ? config.maxReportWait() : wait;
      return body(NodeReport.class, report -> onSuccess(service.report(f, id, report, k, capped),
          reply -> completeOK(reply, json())));
    }));
  }

  private Route events(String f) {
    return parameterOptional("before", before -> parameterOptional("since", since -> parameterOptional("limit", limit -> {
      Long b = before.map(s -> parseLong("before", s, 1, Long.MAX_VALUE)).orElse(null);
      Long sinceMs = since.map(ApiRoutes::parseTime).orElse(null);
      int n = limit.map(s -> (int) parseLong("limit", s, 1, MAX_EVENT_LIMIT)).orElse(DEFAULT_EVENT_LIMIT);
      return onSuccess(service.events(f, b, sinceMs, n), page -> completeOK(page, json()));
    })));
  }

  private Route stream(String f) {
    return parameterOptional("after", after -> optionalHeaderValueByName("Last-Event-ID", lastId -> {
      Optional<Long> from = after.or(() -> lastId).map(s -> parseLong("after", s.strip(), 0, Long.MAX_VALUE));
      // Also the existence check: an unknown formation fails here with 404, before the stream starts.
      return onSuccess(service.events(f, null, null, 1), newest -> {
        long start = from.orElseGet(() -> newest.events().isEmpty() ? 0L : newest.events().get(0).ordering());
        // A heartbeat first, so that the answer's headers leave at once; a failure later ends the stream
        // with one "error" event in the API's error shape (the client reconnects with Last-Event-ID).
        Source<ServerSentEvent, NotUsed> events = Source.single(ServerSentEvent.heartbeat())
            .concat(service.liveEvents(f, start)
                .map(e -> ServerSentEvent.create(Json.write(e), Optional.empty(), Optional.of(Long.toString(e.ordering())),
                    java.util.OptionalInt.empty())))
            .recover(Throwable.class, () -> ServerSentEvent.create(Json.write(Map.of("error", "stream_failed",
                "message", "the event stream failed: reconnect with Last-Event-ID")), "error"))
            .keepAlive(config.sseKeepAlive(), ServerSentEvent::heartbeat);
        return completeOK(events, EventStreamMarshalling.toEventStream());
      });
    }));
  }

  private Route action(String f, Principal.Operator op) {
    return optionalHeaderValueByName("Idempotency-Key", header -> body(Dto.OperatorRequest.class, req -> {
      String kind = req.kind();
      if (kind == null || !(LONG_ACTIONS.contains(kind) || IMMEDIATE_ACTIONS.contains(kind))) {
        Set<String> all = new TreeSet<>(LONG_ACTIONS);
        all.addAll(IMMEDIATE_ACTIONS);
        throw ApiException.badRequest("unknown action kind " + (kind == null ? "(none)" : "'" + kind + "'")
            + "; one of " + String.join(", ", all));
      }
      String key = idempotencyKey(req.idempotencyKey(), header.orElse(null));
      Dto.OperatorRequest r = new Dto.OperatorRequest(kind, req.node(), req.allowFailover(), req.force(), req.value(),
          req.reason(), key);
      Requester by = new Requester(op.name(), req.reason() == null ? "" : req.reason(), key == null ? "" : key);
      return onSuccess(service.perform(f, r, by), o -> LONG_ACTIONS.contains(kind)
          ? complete(StatusCodes.ACCEPTED,
              List.<HttpHeader>of(Location.create(PREFIX + "/formations/" + f + "/operations/" + o.id())), o, json())
          : completeOK(o, json()));
    }));
  }

  private static String idempotencyKey(String inBody, String inHeader) {
    String body = inBody == null || inBody.isEmpty() ? null : inBody;
    String head = inHeader == null || inHeader.isBlank() ? null : inHeader.strip();
    for (String k : new String[] {body, head}) {
      if (k != null && !IDEMPOTENCY_KEY.matcher(k).matches()) {
        throw ApiException.badRequest("an idempotency key is 1 to 200 printable ASCII characters without spaces");
      }
    }
    if (body != null && head != null && !body.equals(head)) {
      throw ApiException.badRequest("the Idempotency-Key header and the body's idempotency_key differ");
    }
    return body != null ? body : head;
  }

  /** Reads a JSON body of {@code type}; a body that is JSON null is refused like a missing one. */
  private <T> Route body(Class<T> type, Function<T, Route> inner) {
    return entity(json(type), value -> {
      if (value == null) throw ApiException.badRequest("the request body must be a JSON object");
      return inner.apply(value);
    });
  }

  // ---- credentials -------------------------------------------------------------------------------

  private Route principal(Function<Principal, Route> inner) {
    return optionalHeaderValueByName("Authorization", header -> {
      Optional<String> token = header.flatMap(ApiRoutes::bearer);
      if (token.isEmpty()) {
        return complete(ApiErrors.unauthorized("missing bearer credential: send 'Authorization: Bearer <token>'"));
      }
      Optional<Principal> p = auth.authenticate(token.get());
      if (p.isEmpty()) return complete(ApiErrors.unauthorized("unknown or revoked credential"));
      return inner.apply(p.get());
    });
  }

  private Route operator(Function<Principal.Operator, Route> inner) {
    return principal(p -> p instanceof Principal.Operator o ? inner.apply(o)
        : complete(ApiErrors.response(403, "forbidden", "this needs an operator token; a node credential may only "
            + "report for its own node")));
  }

  private Route asNode(String formation, int nodeId, Supplier<Route> inner) {
    return principal(p -> {
      if (p instanceof Principal.Node n && n.formation().equals(formation) && n.nodeId() == nodeId) return inner.get();
      String why = p instanceof Principal.Node
          ? "a node may report only as itself"
          : "only the node's own credential may report for it";
      return complete(ApiErrors.response(403, "forbidden", why));
    });
  }

  /**
   * The credential of an Authorization header: "Bearer TOKEN", or "Basic" with the token as password
   * (what a browser sends for the /ui pages).
   */
  static Optional<String> bearer(String header) {
    String h = header.strip();
    int sp = h.indexOf(' ');
    if (sp <= 0) return Optional.empty();
    String scheme = h.substring(0, sp);
    String token = h.substring(sp + 1).strip();
    if (scheme.equalsIgnoreCase("Basic")) {
      try {
        String pair = new String(java.util.Base64.getDecoder().decode(token), java.nio.charset.StandardCharsets.UTF_8);
        int colon = pair.indexOf(':');
        token = colon < 0 ? "" : pair.substring(colon + 1);
      } catch (IllegalArgumentException e) {
        return Optional.empty();
      }
    } else if (!scheme.equalsIgnoreCase("Bearer")) {
      return Optional.empty();
    }
    return BEARER_TOKEN.matcher(token).matches() ? Optional.of(token) : Optional.empty();
  }

  // ---- parameters ------------------------------------------------------------------------------

  static TermSeq parseTermSeq(String s) {
    String[] parts = s.strip().split("\\.", -1);
    if (parts.length != 2) throw ApiException.badRequest("known must be <term>.<seq>, got '" + s + "'");
    return new TermSeq(parseLong("known", parts[0], 0, Long.MAX_VALUE), parseLong("known", parts[1], 0, Long.MAX_VALUE));
  }

  static long parseLong(String name, String s, long min, long max) {
    long v;
    try {
      v = Long.parseLong(s.strip());
    } catch (NumberFormatException e) {
      throw ApiException.badRequest(name + " must be a whole number, got '" + s + "'");
    }
    if (v < min || v > max) throw ApiException.badRequest(name + " must be between " + min + " and " + max + ", got " + v);
    return v;
  }

  /** Epoch milliseconds, or an ISO-8601 instant such as 2026-11-25T19:00:00Z. */
  static long parseTime(String s) {
    String t = s.strip();
    if (!t.isEmpty() && t.chars().allMatch(Character::isDigit)) return parseLong("since", t, 0, Long.MAX_VALUE);
    try {
      return Instant.parse(t).toEpochMilli();
    } catch (DateTimeParseException | ArithmeticException e) {
      throw ApiException.badRequest("since must be epoch milliseconds or an ISO-8601 instant, got '" + s + "'");
    }
  }
}
