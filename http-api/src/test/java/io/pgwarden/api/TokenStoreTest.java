package io.pgwarden.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgwarden.testing.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class TokenStoreTest {
  Path dir;
  Path file;

  @BeforeEach
  void setUp() throws Exception {
    dir = Files.createTempDirectory("pgw-tokens");
    file = dir.resolve("conf/tokens");
  }

  @AfterEach
  void tearDown() {
    TestPostgres.deleteTree(dir);
  }

  @Test
  void createVerifyAndRevoke() throws Exception {
    String alice = TokenStore.create(file, "alice", Instant.parse("2026-11-25T19:27:00.123Z"));
    assertTrue(alice.startsWith("pgwo_"));
    assertEquals(32, Base64.getUrlDecoder().decode(alice.substring(5)).length);
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    String text = Files.readString(file);
    assertFalse(text.contains(alice), "the plaintext is never stored");
    assertTrue(text.contains("alice " + Credentials.sha256Hex(alice) + " 2026-11-25T19:27:00Z"), text);

    TokenStore store = TokenStore.open(file);
    assertEquals(Optional.of("alice"), store.verify(alice));
    assertEquals(Optional.empty(), store.verify(alice + "x"));
    assertEquals(Optional.empty(), store.verify(alice.substring(0, alice.length() - 1)));
    assertEquals(Optional.empty(), store.verify("pgwn_" + alice.substring(5)));
    assertEquals(Optional.empty(), store.verify(null));

    // Tokens made later are seen by a running store; revoked ones stop working.
    String bob = TokenStore.create(file, "bob");
    assertEquals(Optional.of("bob"), store.verify(bob));
    assertEquals(List.of("alice", "bob"), store.entries().stream().map(TokenStore.Entry::name).toList());
    assertThrows(IllegalArgumentException.class, () -> TokenStore.create(file, "bob"));
    assertThrows(IllegalArgumentException.class, () -> TokenStore.create(file, "no spaces"));
    assertTrue(TokenStore.revoke(file, "alice"));
    assertFalse(TokenStore.revoke(file, "alice"));
    assertEquals(Optional.empty(), store.verify(alice));
    assertEquals(Optional.of("bob"), store.verify(bob));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
  }

  @Test
  void concurrentCreatesKeepEveryToken() throws Exception {
    List<CompletableFuture<String>> made = new java.util.ArrayList<>();
    for (int i = 0; i < 8; i++) {
      String name = "op" + i;
      made.add(CompletableFuture.supplyAsync(() -> TokenStore.create(file, name)));
    }
    List<String> tokens = new java.util.ArrayList<>();
    for (CompletableFuture<String> m : made) tokens.add(m.get());
    TokenStore store = TokenStore.open(file);
    for (int i = 0; i < 8; i++) assertEquals(Optional.of("op" + i), store.verify(tokens.get(i)));
  }

  @Test
  void refusesAFileOthersCanRead() throws Exception {
    TokenStore.create(file, "alice");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> TokenStore.open(file));
    assertTrue(e.getMessage().contains("accessible to its group or others"), e.getMessage());
    assertTrue(e.getMessage().contains("chmod 600 " + file), e.getMessage());
    assertThrows(IllegalStateException.class, () -> TokenStore.create(file, "bob"), "nor appends to it");

    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw--w----"));
    assertThrows(IllegalStateException.class, () -> TokenStore.open(file));
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    TokenStore store = TokenStore.open(file);
    String bob = TokenStore.create(file, "bob");

    // Opened up while running: operator tokens stop working until it is fixed.
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw----r--"));
    Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.from(Instant.now().plusSeconds(5)));
    assertEquals(Optional.empty(), store.verify(bob));
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.from(Instant.now().plusSeconds(10)));
    assertEquals(Optional.of("bob"), store.verify(bob));
  }

  @Test
  void missingOrBrokenFilesAreExplained() throws Exception {
    IllegalStateException missing = assertThrows(IllegalStateException.class, () -> TokenStore.open(file));
    assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
    assertTrue(missing.getMessage().contains("pgwarden token create"), missing.getMessage());

    Files.createDirectories(file.getParent());
    Files.writeString(file, "# comment\nalice nothex 2026-01-01T00:00:00Z\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    IllegalStateException broken = assertThrows(IllegalStateException.class, () -> TokenStore.open(file));
    assertTrue(broken.getMessage().contains("malformed at line 2"), broken.getMessage());
  }

  @Test
  void authenticatorRoutesByPrefix() throws Exception {
    String alice = TokenStore.create(file, "alice");
    TokenStore store = TokenStore.open(file);
    FakeController fake = new FakeController();
    try {
      fake.createFormation(new Dto.CreateFormation("f", null, null, null, null), io.pgwarden.model.Requester.CONTROLLER);
      Dto.Registration reg = fake.register("f", new Dto.RegisterNode("n", "127.0.0.1", 5432, null, null, null))
          .toCompletableFuture().get();
      Authenticator auth = Authenticator.of(store, fake);
      assertEquals(Optional.of(new Principal.Operator("alice")), auth.authenticate(alice));
      assertEquals(Optional.of(new Principal.Node("f", reg.nodeId())), auth.authenticate(reg.credential()));
      assertEquals(Optional.empty(), auth.authenticate(reg.credential() + "x"));
      assertEquals(Optional.empty(), auth.authenticate("pgwo_" + reg.credential().substring(5)));
      assertEquals(Optional.empty(), auth.authenticate("anything"));
      assertEquals(Optional.empty(), auth.authenticate(null));
    } finally {
      fake.close();
    }
  }

  @Test
  void credentialsAndHashes() {
    String a = Credentials.newNodeCredential();
    assertTrue(a.startsWith("pgwn_"));
    assertFalse(a.equals(Credentials.newNodeCredential()));
    assertEquals("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Credentials.sha256Hex("test"));
    assertTrue(Credentials.sameHash(Credentials.sha256Hex(a), Credentials.sha256Hex(a).toUpperCase()));
    assertFalse(Credentials.sameHash(Credentials.sha256Hex(a), Credentials.sha256Hex("b")));
    assertFalse(Credentials.sameHash(null, "x"));
  }
}
