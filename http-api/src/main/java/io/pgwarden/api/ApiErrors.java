package io.pgwarden.api;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgwarden.persistence.Json;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpMethod;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.Allow;
import org.apache.pekko.http.javadsl.model.headers.HttpChallenge;
import org.apache.pekko.http.javadsl.model.headers.WWWAuthenticate;
import org.apache.pekko.http.javadsl.server.AuthenticationFailedRejection;
import org.apache.pekko.http.javadsl.server.AuthorizationFailedRejection;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.MalformedHeaderRejection;
import org.apache.pekko.http.javadsl.server.MalformedQueryParamRejection;
import org.apache.pekko.http.javadsl.server.MalformedRequestContentRejection;
import org.apache.pekko.http.javadsl.server.MethodRejection;
import org.apache.pekko.http.javadsl.server.MissingHeaderRejection;
import org.apache.pekko.http.javadsl.server.MissingQueryParamRejection;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.RequestEntityExpectedRejection;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.server.UnacceptedResponseContentTypeRejection;
import org.apache.pekko.http.javadsl.server.UnsupportedRequestContentTypeRejection;
import org.apache.pekko.http.javadsl.server.UnsupportedRequestEncodingRejection;
import org.apache.pekko.http.javadsl.server.ValidationRejection;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API's one error shape, {@code {"error": code, "message": text}}, and the rejection and exception
 * handlers that render every refusal in it. Codes are stable; messages are for people.
 */
public final class ApiErrors {
  private static final Logger LOG = LoggerFactory.getLogger(ApiErrors.class);
  private static final int MAX_MESSAGE = 400;

  private ApiErrors() {}

  /** A JSON error response. */
  public static HttpResponse response(int status, String code, String message) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("error", code);
    n.put("message", clip(message == null ? "" : message));
    return HttpResponse.create().withStatus(status).withEntity(ContentTypes.APPLICATION_JSON, Json.write(n));
  }

  public static HttpResponse of(ApiException e) {
    return response(e.status(), e.code(), e.getMessage());
  }

  /** 401 with the challenge a client needs to know the scheme. */
  public static HttpResponse unauthorized(String message) {
    return of(ApiException.unauthorized(message))
        .addHeader(WWWAuthenticate.create(HttpChallenge.create("Bearer", "pgwarden"),
            HttpChallenge.create("Basic", "pgwarden")));
  }

  static String codeFor(int status) {
    return switch (status) {
      case 400 -> "bad_request";
      case 401 -> "unauthorized";
      case 403 -> "forbidden";
      case 404 -> "not_found";
      case 405 -> "method_not_allowed";
      case 406 -> "not_acceptable";
      case 408 -> "request_timeout";
      case 409 -> "conflict";
      case 413 -> "payload_too_large";
      case 414 -> "uri_too_long";
      case 415 -> "unsupported_media_type";
      case 431 -> "headers_too_large";
      case 501 -> "not_implemented";
      case 503 -> "unavailable";
      default -> status >= 500 ? "internal" : "http_" + status;
    };
  }

  private static Route done(HttpResponse r) {
    return Directives.complete(r);
  }

  /** Every rejection as JSON. Order matters: the first case that matches any rejection wins. */
  public static RejectionHandler rejectionHandler() {
    return RejectionHandler.newBuilder()
        .handle(AuthenticationFailedRejection.class, r -> done(unauthorized("missing or unknown bearer credential")))
        .handle(AuthorizationFailedRejection.class, r -> done(response(403, "forbidden", "this credential may not do that")))
        .handle(MalformedRequestContentRejection.class, r -> done(bodyError(r.getCause(), r.message())))
        .handle(ValidationRejection.class, r -> done(r.getCause().map(c -> bodyError(c, r.message()))
            .orElseGet(() -> response(400, "bad_request", r.message()))))
        .handle(RequestEntityExpectedRejection.class,
            r -> done(response(400, "bad_request", "this request needs a JSON body")))
        .handle(UnsupportedRequestContentTypeRejection.class, r -> done(response(415, "unsupported_media_type",
            "send the body as application/json (Content-Type: application/json)")))
        .handle(UnsupportedRequestEncodingRejection.class, r -> done(response(415, "unsupported_media_type",
            "unsupported Content-Encoding: send the body unencoded")))
        .handleAll(MethodRejection.class, rs -> {
          Set<HttpMethod> allowed = new HashSet<>();
          rs.forEach(r -> allowed.add(r.supported()));
          String names = allowed.stream().map(HttpMethod::name).sorted().collect(Collectors.joining(", "));
          HttpResponse resp = response(405, "method_not_allowed", "method not allowed here; allowed: " + names);
          return done(resp.addHeader(Allow.create(allowed.toArray(new HttpMethod[0]))));
        })
        .handle(MissingQueryParamRejection.class, r -> done(response(400, "bad_request",
            "missing query parameter '" + r.parameterName() + "'")))
        .handle(MalformedQueryParamRejection.class, r -> done(response(400, "bad_request",
            "bad query parameter '" + r.parameterName() + "': " + r.errorMsg())))
        .handle(MissingHeaderRejection.class, r -> done(response(400, "bad_request",
            "missing header " + r.headerName())))
        .handle(MalformedHeaderRejection.class, r -> done(response(400, "bad_request",
            "bad header " + r.headerName() + ": " + r.errorMsg())))
        .handle(UnacceptedResponseContentTypeRejection.class, r -> done(response(406, "not_acceptable",
            "this resource is served as application/json")))
        .handleNotFound(Directives.extractRequest(req -> done(response(404, "not_found",
            "no such resource: " + req.method().name() + " " + req.getUri().path()))))
        .build()
        .withFallback(RejectionHandler.defaultHandler())
        .mapRejectionResponse(ApiErrors::jsonify);
  }

  /** Turns a non-JSON error answer (from the fallback handler) into our shape, keeping status and headers. */
  static HttpResponse jsonify(HttpResponse r) {
    if (r.entity().getContentType().equals(ContentTypes.APPLICATION_JSON)) return r;
    String text = r.entity() instanceof HttpEntity.Strict s ? s.getData().utf8String() : r.status().reason();
    List<HttpHeader> headers = new ArrayList<>();
    r.getHeaders().forEach(headers::add);
    return response(r.status().intValue(), codeFor(r.status().intValue()), text).withHeaders(headers);
  }

  /** Every exception as JSON: our ApiException with its status, bad input as 400, a real bug as 500. */
  public static ExceptionHandler exceptionHandler() {
    return ExceptionHandler.newBuilder().matchAny(e -> done(forException(e))).build();
  }

  static HttpResponse forException(Throwable e) {
    Throwable t = unwrap(e);
    if (t instanceof ApiException a) return of(a);
    if (find(t, EntityStreamSizeException.class) != null) return tooLarge(find(t, EntityStreamSizeException.class));
    if (t instanceof IllegalArgumentException || t instanceof JsonProcessingException) return bodyError(t, t.getMessage());
    String ref = UUID.randomUUID().toString().substring(0, 8);
    LOG.error("internal error {} while serving a request", ref, t);
    return response(500, "internal", "internal error " + ref + " (the controller log has the details)");
  }

  static Throwable unwrap(Throwable e) {
    Throwable t = e;
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) t = t.getCause();
    return t;
  }

  private static <T extends Throwable> T find(Throwable t, Class<T> type) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (type.isInstance(c)) return type.cast(c);
    }
    return null;
  }

  private static HttpResponse tooLarge(EntityStreamSizeException e) {
    return response(413, "payload_too_large", "request body larger than the limit of " + e.limit() + " bytes");
  }

  /** A body that could not be read or mapped: a clear 400 (or 413 when it was too large). */
  static HttpResponse bodyError(Throwable cause, String fallback) {
    Throwable t = unwrap(cause);
    EntityStreamSizeException big = find(t, EntityStreamSizeException.class);
    if (big != null) return tooLarge(big);
    ApiException api = find(t, ApiException.class);
    if (api != null) return of(api);
    JsonParseException parse = find(t, JsonParseException.class);
    if (parse != null) return response(400, "malformed_json", "malformed JSON: " + plain(parse.getOriginalMessage())
        + location(parse));
    JsonMappingException mapping = find(t, JsonMappingException.class);
    if (mapping != null) {
      IllegalArgumentException bad = find(mapping.getCause(), IllegalArgumentException.class);
      String at = path(mapping);
      String what = bad != null && bad.getMessage() != null ? bad.getMessage() : plain(mapping.getOriginalMessage());
      return response(400, "bad_request", (at.isEmpty() ? "" : "field '" + at + "': ") + what);
    }
    JsonProcessingException other = find(t, JsonProcessingException.class);
    if (other != null) return response(400, "malformed_json", "malformed JSON: " + plain(other.getOriginalMessage()));
    IllegalArgumentException bad = find(t, IllegalArgumentException.class);
    if (bad != null && bad.getMessage() != null) return response(400, "bad_request", bad.getMessage());
    return response(400, "bad_request", fallback == null || fallback.isBlank() ? "the request body cannot be read" : fallback);
  }

  private static String location(JsonProcessingException e) {
    if (e.getLocation() == null) return "";
    return " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
  }

  private static String path(JsonMappingException e) {
    StringBuilder sb = new StringBuilder();
    for (JsonMappingException.Reference r : e.getPath()) {
      if (r.getFieldName() != null) {
        if (!sb.isEmpty()) sb.append('.');
        sb.append(r.getFieldName());
      } else if (r.getIndex() >= 0) {
        sb.append('[').append(r.getIndex()).append(']');
      }
    }
    return sb.toString();
  }

  /** Jackson's message without Java class names. */
  static String plain(String message) {
    if (message == null) return "";
    return message.replaceAll("`(?:[a-zA-Z_][a-zA-Z0-9_]*\\.)+([A-Za-z0-9_$]+)`", "`$1`").replace('$', '.')
        .replaceAll("\\s+", " ").strip();
  }

  private static String clip(String s) {
    return s.length() <= MAX_MESSAGE ? s : s.substring(0, MAX_MESSAGE) + "...";
  }
}
