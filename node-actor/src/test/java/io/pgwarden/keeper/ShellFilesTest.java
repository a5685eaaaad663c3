package io.pgwarden.keeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgwarden.keeper.app.KeeperFileConfig;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.TermSeq;
import io.pgwarden.model.Timing;
import io.pgwarden.os.Dirs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The keeper's files (state, configuration) and the health checks' lag parameter, without PostgreSQL. */
class ShellFilesTest {
  private Path dir;

  @BeforeEach
  void setUp() throws Exception {
    dir = Files.createTempDirectory("pgw-shell-files-");
  }

  @AfterEach
  void tearDown() {
    Dirs.deleteTree(dir);
  }

  @Test
  void theStateFileIsWrittenWholeAndReadBack() throws Exception {
    StateFile f = new StateFile(dir);
    assertEquals(Persisted.NEW, f.read(), "no file: a new node");
    Persisted p = new Persisted(NodeState.PRIMARY, new TermSeq(3, 17), 4);
    f.write(p);
    assertEquals(p, f.read());
    assertEquals("{\"current\":\"primary\",\"executed\":{\"term\":3,\"seq\":17},\"known_term\":4}",
        Files.readString(f.path()).strip());
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f.path())));
    f.write(new Persisted(NodeState.SECONDARY, new TermSeq(4, 1), 4));
    assertEquals(NodeState.SECONDARY, f.read().current());
    try (var s = Files.list(dir)) {
      assertEquals(List.of(StateFile.NAME), s.map(x -> x.getFileName().toString()).toList(), "no temporary left");
    }
  }

  @Test
  void aDamagedStateFileStopsTheKeeperInsteadOfForgettingItsTerm() throws Exception {
    StateFile f = new StateFile(dir);
    Files.writeString(f.path(), "{\"current\":\"prim");
    IllegalStateException e = assertThrows(IllegalStateException.class, f::read);
    assertTrue(e.getMessage().contains(f.path().toString()), e.getMessage());
    Files.writeString(f.path(), "{\"current\":\"flying\",\"known_term\":1}");
    assertThrows(IllegalStateException.class, f::read);
  }

  @Test
  void theConfigurationRoundTripsWithItsCredentialApart() throws Exception {
    Timing t = Timing.DEFAULT.withLeaseMs(1234);
    KeeperFileConfig c = new KeeperFileConfig("ignored", "app", 7, "n7", "http://127.0.0.1:7000", "/srv/pg/data", 5432,
        "10.0.0.7", "10.0.0.7", null, "10.0.0.7:8432", "http://10.0.0.7:8432", t, null, Map.of("shared_buffers", "1GB"));
    Path kd = dir.resolve("keeper");
    c.save(kd, "pgwn_secret");
    KeeperFileConfig back = KeeperFileConfig.load(kd);
    assertEquals(c, back);
    assertEquals("keeper", back.role());
    assertEquals("postgres", back.pgUser());
    assertTrue(back.durable());
    assertEquals(1234, back.timing().leaseMs());
    assertEquals("10.0.0.7", back.keeperHost());
    assertEquals(8432, back.keeperPort());
    assertEquals("pgwn_secret", KeeperFileConfig.credential(kd));
    assertFalse(Files.readString(kd.resolve(KeeperFileConfig.FILE)).contains("pgwn_secret"));
    for (String name : List.of(KeeperFileConfig.FILE, KeeperFileConfig.CREDENTIAL_FILE)) {
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(kd.resolve(name))), name);
    }
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(kd)));
    Files.writeString(kd.resolve(KeeperFileConfig.FILE), "{\"role\":\"controller\"}");
    assertThrows(IllegalStateException.class, () -> KeeperFileConfig.load(kd));
  }

  @Test
  void lagIsBytesOrPowersOf1024() {
    assertEquals(16384L, HealthCheck.parseLag("16384"));
    assertEquals(1024L, HealthCheck.parseLag("1kB"));
    assertEquals(16L << 20, HealthCheck.parseLag("16MB"));
    assertEquals(2L << 30, HealthCheck.parseLag("2gb"));
    assertEquals(1L << 40, HealthCheck.parseLag("1TB"));
    assertNull(HealthCheck.parseLag("-1"));
    assertNull(HealthCheck.parseLag("1 MiB"));
    assertNull(HealthCheck.parseLag(""));
    assertNull(HealthCheck.parseLag("99999999999999999TB"));
  }

  @Test
  void healthPathsAreExactAndEverythingElseFailsClosed() {
    for (String p : List.of("/", "/primary", "/read-write", "/master", "/replica", "/read-only", "/health",
        "/liveness", "/primary/")) {
      assertTrue(HealthCheck.known(p), p);
    }
    for (String p : List.of("/leader", "/replicas", "/primary/x", "/sync", "/readiness")) {
      assertFalse(HealthCheck.known(p), p);
    }
    KeeperStatus s = KeeperStatus.initial(1, "n1", "app");
    assertEquals(503, HealthCheck.evaluate(s, "/primary", null, 0, 0, 1_000).status());
    assertEquals(503, HealthCheck.evaluate(s, "/nope", null, 0, 0, 1_000).status());
    assertEquals("unknown", HealthCheck.evaluate(s, "/health", null, 0, 0, 1_000).body().get("state"));
  }
}
