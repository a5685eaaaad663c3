package io.pgwarden.api;

import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.ParsingErrorHandler;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.scaladsl.model.ErrorInfo;
import org.apache.pekko.http.scaladsl.model.StatusCode;
import org.apache.pekko.http.scaladsl.settings.ServerSettings;

/**
 * Answers requests the HTTP layer cannot even parse (an unknown method, a URI or header too long, a
 * malformed request line) in the API's JSON error shape instead of plain text. Configured by
 * {@link ApiServer} as {@code pekko.http.server.parsing.error-handler}.
 */
public final class JsonParsingErrorHandler extends ParsingErrorHandler {
  public JsonParsingErrorHandler() {}

  @Override
  public HttpResponse handle(StatusCode status, ErrorInfo info, LoggingAdapter log, ServerSettings settings) {
    int code = status.intValue();
    String summary = info.summary() == null || info.summary().isBlank() ? status.reason() : info.summary();
    return ApiErrors.response(code, ApiErrors.codeFor(code), summary);
  }
}
