package io.pgwarden.cli;

import io.pgwarden.api.ApiClient;
import io.pgwarden.api.Dto;
import io.pgwarden.persistence.Json;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code pgwarden show ...}: read-only views of a formation. */
@Command(name = "show", description = "Show a formation's state, URIs, events, settings or standby names.",
    subcommands = {ShowCommands.State.class, ShowCommands.Uri.class, ShowCommands.Events.class,
        ShowCommands.Settings.class, ShowCommands.StandbyNames.class, SystemdCommand.class})
final class ShowCommands {

  abstract static class Base implements Callable<Integer> {
    @Mixin
    Pgwarden.Connection conn;

    @Option(names = "--formation", defaultValue = "default", description = "formation name (default: ${DEFAULT-VALUE})")
    String formation;

    @Option(names = "--json", description = "print JSON")
    boolean json;

    @Option(names = "--watch", description = "print again every --interval until interrupted")
    boolean watch;

    @Option(names = "--interval", defaultValue = "1000", description = "ms between prints with --watch")
    long interval;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    abstract Object fetch(ApiClient c);

    abstract String text(Object value);

    @Override
    public Integer call() throws Exception {
      ApiClient c = conn.client();
      do {
        Object v = fetch(c);
        spec.commandLine().getOut().print(json ? Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(v)
            + "\n" : text(v));
        spec.commandLine().getOut().flush();
        if (watch) Thread.sleep(interval);
      } while (watch);
      return Pgwarden.OK;
    }
  }

  @Command(name = "state", description = "The node table: Name, Node, Host:Port, TLI: LSN, Connection, states.")
  static final class State extends Base {
    Object fetch(ApiClient c) {
      return c.state(formation);
    }

    String text(Object v) {
      return Tables.state((Dto.FormationState) v);
    }
  }

  @Command(name = "uri", description = "The connection URIs clients use (libpq and JDBC).")
  static final class Uri extends Base {
    Object fetch(ApiClient c) {
      return c.uris(formation);
    }

    String text(Object v) {
      Dto.Uris u = (Dto.Uris) v;
      return Tables.render(List.of("Type", "Name", "Connection String"), List.of(
          List.of("formation", u.formation(), u.postgres()), List.of("jdbc", u.formation(), u.jdbc())));
    }
  }

  @Command(name = "events", description = "The formation's journal, newest first.")
  static final class Events extends Base {
    @Option(names = "--count", defaultValue = "10", description = "how many events (default: ${DEFAULT-VALUE})")
    int count;

    Object fetch(ApiClient c) {
      return c.events(formation, null, null, count);
    }

    String text(Object v) {
      List<List<String>> rows = new ArrayList<>();
      for (Dto.EventView e : ((Dto.EventPage) v).events()) {
        rows.add(List.of(Instant.ofEpochMilli(e.at()).toString(), e.persistenceId(), e.type(), describe(e)));
      }
      return Tables.render(List.of("Event Time", "Source", "Type", "Comment"), rows);
    }

    static String describe(Dto.EventView e) {
      var ev = e.event();
      if (ev.has("rule")) return ev.path("rule").asText() + ": " + ev.path("reason").asText();
      if (ev.has("state")) return "reached " + ev.path("state").asText();
      if (ev.has("healthy")) return (ev.path("healthy").asBoolean() ? "healthy" : "unhealthy") + " ("
          + ev.path("observer").asText() + ": " + ev.path("detail").asText() + ")";
      if (ev.has("reason")) return ev.path("reason").asText();
      return ev.toString().length() > 120 ? ev.toString().substring(0, 117) + "..." : ev.toString();
    }
  }

  @Command(name = "settings", description = "Replication settings: formation, primary, nodes.")
  static final class Settings extends Base {
    Object fetch(ApiClient c) {
      return c.settings(formation);
    }

    String text(Object v) {
      Dto.Settings s = (Dto.Settings) v;
      List<List<String>> rows = new ArrayList<>();
      rows.add(List.of("formation", s.formation(), "number_sync_standbys",
          String.valueOf(s.settings().numberSyncStandbys())));
      rows.add(List.of("formation", s.formation(), "failover_data_loss_allowed",
          String.valueOf(s.settings().failoverDataLossAllowed())));
      rows.add(List.of("primary", s.formation(), "synchronous_standby_names", "'" + s.syncStandbyNames() + "'"));
      for (Dto.NodeSettingsView n : s.nodes()) {
        rows.add(List.of("node", n.name(), "candidate priority", String.valueOf(n.candidatePriority())));
        rows.add(List.of("node", n.name(), "replication quorum", String.valueOf(n.replicationQuorum())));
      }
      return Tables.render(List.of("Context", "Name", "Setting", "Value"), rows);
    }
  }

  @Command(name = "standby-names", description = "The synchronous_standby_names the controller computes.")
  static final class StandbyNames extends Base {
    Object fetch(ApiClient c) {
      return c.settings(formation);
    }

    String text(Object v) {
      return "'" + ((Dto.Settings) v).syncStandbyNames() + "'\n";
    }
  }
}
