package io.pgwarden.api;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.ConnectionContext;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.ServerBuilder;
import org.apache.pekko.http.javadsl.settings.ServerSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The controller's HTTP API server: binds {@link ApiRoutes} on the configured address. */
public final class ApiServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ApiServer.class);
  private final ServerBinding binding;
  private final boolean tls;

  private ApiServer(ServerBinding binding, boolean tls) {
    this.binding = binding;
    this.tls = tls;
  }

  /**
   * Starts serving and waits (up to 15 s) until the port is bound.
   *
   * @throws IllegalStateException when the address cannot be bound or the TLS keystore cannot be used,
   *     with the reason
   */
  public static ApiServer start(ActorSystem<?> system, ControllerService service, Authenticator auth, ApiConfig config) {
    try {
      return startAsync(system, service, auth, config).toCompletableFuture().get(15, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      throw new IllegalStateException("cannot serve the API on " + config.host() + ":" + config.port() + ": "
          + (c.getMessage() == null ? c.toString() : c.getMessage()), c);
    } catch (TimeoutException e) {
      throw new IllegalStateException("binding the API on " + config.host() + ":" + config.port() + " timed out", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while binding the API", e);
    }
  }

  /** As {@link #start}, without blocking. A bad keystore throws at once. */
  public static CompletionStage<ApiServer> startAsync(ActorSystem<?> system, ControllerService service,
      Authenticator auth, ApiConfig config) {
    // A held long-poll must never meet the server's request timeout (20 s by default).
    long requestTimeoutMs = Math.max(20_000, config.maxReportWait().toMillis() + 10_000);
    Config overrides = ConfigFactory.parseMap(Map.of(
        "pekko.http.server.parsing.error-handler", JsonParsingErrorHandler.class.getName(),
        "pekko.http.server.transparent-head-requests", "on",
        "pekko.http.server.request-timeout", requestTimeoutMs + "ms",
        "pekko.http.server.parsing.max-content-length", Long.toString(config.maxBodyBytes())));
    ServerSettings settings = ServerSettings.create(overrides.withFallback(system.settings().config()));
    ServerBuilder builder = Http.get(system).newServerAt(config.host(), config.port()).withSettings(settings);
    if (config.tls().isPresent()) builder = builder.enableHttps(ConnectionContext.httpsServer(sslContext(config.tls().get())));
    boolean secure = config.tls().isPresent();
    return builder.bind(new ApiRoutes(service, auth, config).route()).thenApply(b -> {
      LOG.info("API listening on {}://{}:{}", secure ? "https" : "http", b.localAddress().getHostString(),
          b.localAddress().getPort());
      return new ApiServer(b, secure);
    });
  }

  /** An SSLContext from a PKCS#12 keystore (key and certificate chain), for HTTPS. */
  public static SSLContext sslContext(ApiConfig.Tls tls) {
    char[] password = tls.password().toCharArray();
    try (InputStream in = Files.newInputStream(tls.keystore())) {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(in, password);
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, password);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf.getKeyManagers(), null, null);
      return ctx;
    } catch (NoSuchFileException e) {
      throw new IllegalStateException("the TLS keystore " + tls.keystore() + " does not exist", e);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the TLS keystore " + tls.keystore()
          + " (is it PKCS#12, and is the password right?): " + e.getMessage(), e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot use the TLS keystore " + tls.keystore() + ": " + e.getMessage(), e);
    }
  }

  public InetSocketAddress address() {
    return binding.localAddress();
  }

  public int port() {
    return binding.localAddress().getPort();
  }

  /** The base URI clients use, e.g. http://127.0.0.1:8080 (no trailing slash). */
  public URI baseUri() {
    String host = binding.localAddress().getHostString();
    if (host.contains(":")) host = "[" + host + "]";
    return URI.create((tls ? "https" : "http") + "://" + host + ":" + port());
  }

  /** Stops accepting connections and ends open ones (long-polls, event streams) within {@code deadline}. */
  public CompletionStage<?> stop(Duration deadline) {
    return binding.terminate(deadline);
  }

  @Override
  public void close() {
    try {
      stop(Duration.ofSeconds(3)).toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      LOG.warn("API server did not stop cleanly: {}", e.toString());
    }
  }
}
