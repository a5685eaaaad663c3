package io.pgwarden.cli;

import io.pgwarden.controller.app.ControllerConfig;
import io.pgwarden.controller.audit.AuditJournal;
import io.pgwarden.controller.audit.AuditQuery;
import io.pgwarden.controller.audit.AuditReport;
import io.pgwarden.controller.audit.AuditText;
import io.pgwarden.persistence.Json;
import io.pgwarden.persistence.JournalStore;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code pgwarden audit}: replays a formation's journal into its primaries, incidents and findings.
 * Through the API while the controller runs (it holds the H2 file); straight from the journal with
 * {@code --journal-dir} when the controller is stopped.
 */
@Command(name = "audit", description = "Replay a formation's journal: who was primary when, every incident"
    + " with its phases, and anything that should never happen.")
final class AuditCommand implements Callable<Integer> {
  @Mixin
  Pgwarden.Connection conn;

  @Option(names = "--formation", defaultValue = "default", description = "formation name (default: ${DEFAULT-VALUE})")
  String formation;

  @Option(names = "--since", description = "from this instant (ISO-8601, epoch ms, or -15m / -2h / -7d)")
  String since;

  @Option(names = "--until", description = "up to this instant")
  String until;

  @Option(names = "--at", description = "show the formation as it stood at this instant")
  String at;

  @Option(names = "--json", description = "print the report as JSON")
  boolean json;

  @Option(names = "--journal-dir", description = "a stopped controller's data directory: read its journal directly")
  Path journalDir;

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    long now = System.currentTimeMillis();
    Long s = since == null ? null : AuditText.parseInstant(since, now);
    Long u = until == null ? null : AuditText.parseInstant(until, now);
    Long a = at == null ? null : AuditText.parseInstant(at, now);
    AuditReport report;
    if (journalDir != null) {
      ControllerConfig cfg = ControllerConfig.load(journalDir);
      JournalStore store = cfg.journal(journalDir);
      try (var c = store.connect()) {
        report = new AuditJournal().audit(c, formation, AuditQuery.all().since(s).until(u).at(a).now(now)
            .timing(cfg.timing()));
      } catch (java.sql.SQLException e) {
        throw new Pgwarden.UserError("cannot read the journal at " + store + ": " + e.getMessage(),
            "stop the controller first (it holds the H2 file), or audit through it without --journal-dir");
      }
    } else {
      report = Json.MAPPER.treeToValue(conn.client().audit(formation, s, u, a), AuditReport.class);
    }
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(report));
    } else {
      out.print(a != null && report.stateAt() != null ? AuditText.renderState(report.stateAt())
          : AuditText.render(report));
    }
    out.flush();
    return Pgwarden.OK;
  }
}
