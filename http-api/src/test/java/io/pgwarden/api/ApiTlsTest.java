package io.pgwarden.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgwarden.testing.TestPostgres;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.Test;

/** HTTPS from a PKCS#12 keystore (made here with the JDK's keytool). */
class ApiTlsTest {

  private static void keytool(Path dir, String... args) throws Exception {
    List<String> argv = new java.util.ArrayList<>();
    argv.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    argv.addAll(List.of(args));
    Process p = new ProcessBuilder(argv).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "keytool failed: " + out);
  }

  @Test
  void servesHttpsFromAPkcs12Keystore() throws Exception {
    Path dir = Files.createTempDirectory("pgw-tls");
    ActorTestKit kit = ActorTestKit.create("api-tls-test");
    FakeController fake = new FakeController();
    try {
      keytool(dir, "-genkeypair", "-alias", "pgwarden", "-keyalg", "EC", "-groupname", "secp256r1",
          "-dname", "CN=127.0.0.1", "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-validity", "2",
          "-storetype", "PKCS12", "-keystore", "api.p12", "-storepass", "s3cret", "-keypass", "s3cret");
      keytool(dir, "-exportcert", "-rfc", "-alias", "pgwarden", "-keystore", "api.p12", "-storepass", "s3cret",
          "-file", "api.pem");
      String op = TokenStore.create(dir.resolve("tokens"), "alice");
      ApiConfig config = ApiConfig.loopback(0).withTls(new ApiConfig.Tls(dir.resolve("api.p12"), "s3cret"));
      assertFalse(config.toString().contains("s3cret"), "the keystore password never shows in logs");

      try (ApiServer server = ApiServer.start(kit.system(), fake,
          Authenticator.of(TokenStore.open(dir.resolve("tokens")), fake), config)) {
        assertTrue(server.baseUri().toString().startsWith("https://127.0.0.1:"), server.baseUri().toString());
        ApiClient client = new ApiClient(server.baseUri(), op, Duration.ofSeconds(5), ApiClient.trusting(dir.resolve("api.pem")));
        assertTrue(client.health());
        client.createFormation(new Dto.CreateFormation("tls", null, null, null, "over https"));
        assertEquals("tls", client.formations().get(0).name());

        // A client that does not trust the certificate gets no answer; plain HTTP gets none either.
        assertFalse(new ApiClient(server.baseUri(), op).health());
        assertFalse(new ApiClient(URI.create("http://127.0.0.1:" + server.port()), op, Duration.ofSeconds(1), null).health());
        assertTrue(client.health(), "still serving");
      }

      IllegalStateException wrong = assertThrows(IllegalStateException.class, () -> ApiServer.start(kit.system(), fake,
          c -> java.util.Optional.empty(), ApiConfig.loopback(0).withTls(new ApiConfig.Tls(dir.resolve("api.p12"), "nope"))));
      assertTrue(wrong.getMessage().contains("password"), wrong.getMessage());
      IllegalStateException missing = assertThrows(IllegalStateException.class, () -> ApiServer.start(kit.system(), fake,
          c -> java.util.Optional.empty(), ApiConfig.loopback(0).withTls(new ApiConfig.Tls(dir.resolve("none.p12"), "x"))));
      assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
    } finally {
      fake.close();
      kit.shutdownTestKit();
      TestPostgres.deleteTree(dir);
    }
  }

  @Test
  void aBusyPortIsAClearError() {
    ActorTestKit kit = ActorTestKit.create("api-bind-test");
    FakeController fake = new FakeController();
    try (ApiServer first = ApiServer.start(kit.system(), fake, c -> java.util.Optional.empty(), ApiConfig.loopback(0))) {
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> ApiServer.start(kit.system(), fake,
          c -> java.util.Optional.empty(), ApiConfig.loopback(first.port())));
      assertTrue(e.getMessage().contains("cannot serve the API on 127.0.0.1:" + first.port()), e.getMessage());
    } finally {
      fake.close();
      kit.shutdownTestKit();
    }
  }
}
