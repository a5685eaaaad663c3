package io.pgwarden.api;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * How the API server listens.
 *
 * @param host the address to bind (loopback by default; a keeper on another host needs a reachable one)
 * @param port the TCP port; 0 picks a free one (tests)
 * @param tls HTTPS from a PKCS#12 keystore; empty for plain HTTP
 * @param maxBodyBytes the largest request body accepted; larger ones get 413
 * @param maxReportWait the longest a report's long-poll is held, whatever the keeper asks (at most 30 s)
 * @param sseKeepAlive how often an idle event stream sends a keep-alive comment
 * @param openMetrics serve /metrics without a token (for a scraper on a trusted network); off by
 *     default, when /metrics requires an operator token
 */
public record ApiConfig(String host, int port, Optional<Tls> tls, long maxBodyBytes, Duration maxReportWait,
    Duration sseKeepAlive, boolean openMetrics) {

  public static final long DEFAULT_MAX_BODY_BYTES = 256 * 1024;
  public static final Duration DEFAULT_MAX_REPORT_WAIT = Duration.ofMillis(5_000);
  public static final Duration DEFAULT_SSE_KEEP_ALIVE = Duration.ofSeconds(15);

  /** A PKCS#12 keystore holding the server's key and certificate chain. */
  public record Tls(Path keystore, String password) {
    public Tls {
      Objects.requireNonNull(keystore, "keystore");
      password = password == null ? "" : password;
    }

    @Override
    public String toString() {
      return "Tls[keystore=" + keystore + ", password=********]";
    }
  }

  public ApiConfig {
    Objects.requireNonNull(host, "host");
    tls = tls == null ? Optional.empty() : tls;
    if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be between 0 and 65535, got " + port);
    if (maxBodyBytes < 1024) throw new IllegalArgumentException("max body bytes must be at least 1024, got " + maxBodyBytes);
    maxReportWait = maxReportWait == null ? DEFAULT_MAX_REPORT_WAIT : maxReportWait;
    sseKeepAlive = sseKeepAlive == null ? DEFAULT_SSE_KEEP_ALIVE : sseKeepAlive;
    if (maxReportWait.isNegative() || maxReportWait.compareTo(Duration.ofSeconds(30)) > 0) {
      throw new IllegalArgumentException("max report wait must be between 0 and 30 s, got " + maxReportWait);
    }
    if (sseKeepAlive.isNegative() || sseKeepAlive.isZero()) throw new IllegalArgumentException("keep-alive must be positive");
  }

  public ApiConfig(String host, int port, Optional<Tls> tls, long maxBodyBytes) {
    this(host, port, tls, maxBodyBytes, DEFAULT_MAX_REPORT_WAIT, DEFAULT_SSE_KEEP_ALIVE, false);
  }

  /** Plain HTTP on 127.0.0.1 with the defaults. */
  public static ApiConfig loopback(int port) {
    return new ApiConfig("127.0.0.1", port, Optional.empty(), DEFAULT_MAX_BODY_BYTES);
  }

  public ApiConfig withTls(Tls t) {
    return new ApiConfig(host, port, Optional.ofNullable(t), maxBodyBytes, maxReportWait, sseKeepAlive, openMetrics);
  }

  public ApiConfig withMaxBodyBytes(long n) {
    return new ApiConfig(host, port, tls, n, maxReportWait, sseKeepAlive, openMetrics);
  }

  public ApiConfig withMaxReportWait(Duration d) {
    return new ApiConfig(host, port, tls, maxBodyBytes, d, sseKeepAlive, openMetrics);
  }

  public ApiConfig withSseKeepAlive(Duration d) {
    return new ApiConfig(host, port, tls, maxBodyBytes, maxReportWait, d, openMetrics);
  }

  public ApiConfig withOpenMetrics(boolean open) {
    return new ApiConfig(host, port, tls, maxBodyBytes, maxReportWait, sseKeepAlive, open);
  }
}
