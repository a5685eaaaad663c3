package io.pgwarden.cli;

import io.pgwarden.api.ApiClient;
import io.pgwarden.api.Dto;
import io.pgwarden.api.TokenStore;
import io.pgwarden.controller.app.ControllerApp;
import io.pgwarden.controller.app.ControllerConfig;
import io.pgwarden.model.Timing;
import io.pgwarden.os.Dirs;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/**
 * {@code pgwarden cds-training} (hidden): loads the classes a controller or a keeper loads at start —
 * actor system, HTTP server and client, JSON, the journal, the PostgreSQL driver, the keeper's core —
 * and exits. Run once with {@code -XX:ArchiveClassesAtExit=pgwarden.jsa} ({@code bin/pgwarden} does,
 * after each build), it leaves an application class-data archive that every later start maps instead
 * of loading and verifying those classes again: a keeper JVM starts in about half the time, which is
 * most of an old primary's rejoin after its host died (docs/benchmarks.md).
 */
@Command(name = "cds-training", hidden = true, description = "Load the classes of a start, then exit (for a CDS archive).")
final class CdsTrainingCommand implements Callable<Integer> {
  static final List<String> KEEPER_CLASSES = List.of("io.pgwarden.keeper.app.KeeperApp", "io.pgwarden.keeper.KeeperActor",
      "io.pgwarden.keeper.KeeperStep", "io.pgwarden.keeper.ExecutorActor", "io.pgwarden.keeper.StepRunner",
      "io.pgwarden.keeper.Transitions", "io.pgwarden.keeper.TransitionPlanner", "io.pgwarden.keeper.KeeperHttp",
      "io.pgwarden.keeper.Fencer", "io.pgwarden.keeper.Failsafe", "io.pgwarden.keeper.Reports",
      "io.pgwarden.keeper.EnsureState", "io.pgwarden.keeper.Safety", "io.pgwarden.keeper.pg.FactsReader",
      "io.pgwarden.keeper.pg.PgCluster", "io.pgwarden.keeper.pg.Rewinder", "io.pgwarden.keeper.pg.Promoter",
      "io.pgwarden.keeper.pg.SqlSteps", "io.pgwarden.keeper.app.KeeperFileConfig", "org.postgresql.Driver");

  @Override
  public Integer call() throws Exception {
    Path dir = Files.createTempDirectory("pgwarden-cds-");
    try {
      String token = TokenStore.create(dir.resolve(ControllerConfig.TOKENS_FILE), "admin");
      ControllerApp app = ControllerApp.start(dir, new ControllerConfig("controller", "127.0.0.1", 0, "", null, null,
          null, null, false, Timing.DEFAULT));
      try {
        ApiClient api = new ApiClient(URI.create("http://127.0.0.1:" + app.port()), token, Duration.ofSeconds(10), null);
        api.createFormation(new Dto.CreateFormation("cds", "postgres", 0, null, "cds training"));
        api.state("cds");
        for (String c : KEEPER_CLASSES) Class.forName(c);
        try {
          java.sql.DriverManager.getConnection("jdbc:postgresql://127.0.0.1:1/none?connectTimeout=1", "none", "");
        } catch (java.sql.SQLException expected) {
          // the driver's classes are loaded; nothing listens there
        }
      } finally {
        app.close();
      }
    } finally {
      Dirs.deleteTree(dir);
    }
    return Pgwarden.OK;
  }
}
