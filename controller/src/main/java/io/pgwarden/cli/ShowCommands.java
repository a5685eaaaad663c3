package io.pgwarden.cli;

import io.pgwarden.api.ApiClient;
import io.pgwarden.api.ApiException;
import io.pgwarden.api.Dto;
import io.pgwarden.persistence.Json;
import java.io.PrintWriter;
import java.time.Instant;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

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

    @Option(names = "--json", description = "print JSON (with --watch: one compact document a line)")
    boolean json;

    @Option(names = "--watch", description = "print again every --interval until interrupted")
    boolean watch;

    @Option(names = "--interval", defaultValue = "1000", description = "ms between prints with --watch"
        + " (default: ${DEFAULT-VALUE})")
    long interval;

    @Option(names = "--watch-count", defaultValue = "0",
        description = "with --watch: stop after this many updates (default: 0, never)")
    int watchCount;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    abstract Object fetch(ApiClient c);

    abstract String text(Object value);

    @Override
    public Integer call() throws Exception {
      ApiClient c = conn.client();
      PrintWriter out = spec.commandLine().getOut();
      if (watch && interval < 10) throw new Pgwarden.UserError("--interval " + interval + " is too short",
          "give at least 10 ms", Pgwarden.USAGE);
      int printed = 0;
      while (true) {
        Object v = fetch(c);
        if (json) {
          out.println(watch ? Json.write(v) : Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(v));
        } else {
          if (watch && printed > 0) out.println();
          if (watch) out.println(LocalTime.now().format(CLOCK) + "  (every " + interval + " ms)");
          out.print(text(v));
        }
        out.flush();
        printed++;
        if (!watch || watchCount > 0 && printed >= watchCount) return Pgwarden.OK;
        Thread.sleep(interval);
      }
    }
  }

  static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");

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

  @Command(name = "events", description = "The formation's journal, newest first; with --watch, oldest first and"
      + " then each new event as it is journaled.")
  static final class Events extends Base {
    @Option(names = "--count", defaultValue = "10", description = "how many events (default: ${DEFAULT-VALUE})")
    int count;

    Object fetch(ApiClient c) {
      return c.events(formation, null, null, count);
    }

    String text(Object v) {
      List<List<String>> rows = new ArrayList<>();
      for (Dto.EventView e : ((Dto.EventPage) v).events()) rows.add(row(e));
      return Tables.render(HEADER, rows);
    }

    static final List<String> HEADER = List.of("Event Time", "Source", "Type", "Comment");

    static List<String> row(Dto.EventView e) {
      return List.of(Instant.ofEpochMilli(e.at()).toString(), e.persistenceId(), e.type(), describe(e));
    }

    /**
     * With --watch: the last --count events, then every new one as the controller journals it (the
     * server-sent event stream), reconnecting after the last one seen when the stream breaks.
     */
    @Override
    public Integer call() throws Exception {
      if (!watch) return super.call();
      ApiClient c = conn.client();
      PrintWriter out = spec.commandLine().getOut();
      Dto.EventPage page = c.events(formation, null, null, count);
      List<Dto.EventView> first = new ArrayList<>(page.events());
      java.util.Collections.reverse(first);
      long last = first.isEmpty() ? 0L : first.get(first.size() - 1).ordering();
      // new events come one at a time: align them on widths wide enough for every type and source
      int[] widths = {24, 14, 26, 7};
      for (Dto.EventView e : first) widths[1] = Math.max(widths[1], e.persistenceId().length());
      if (json) {
        for (Dto.EventView e : first) out.println(Json.write(e));
      } else {
        out.println(Tables.line(HEADER, widths));
        out.println(Tables.rule(widths));
        for (Dto.EventView e : first) out.println(Tables.line(row(e), widths));
      }
      out.flush();
      int seen = 0;
      while (true) {
        try (Stream<Dto.EventView> stream = c.streamEvents(formation, last)) {
          var it = stream.iterator();
          while (it.hasNext()) {
            Dto.EventView e = it.next();
            if (e.ordering() <= last) continue;
            last = e.ordering();
            out.println(json ? Json.write(e) : Tables.line(row(e), widths));
            out.flush();
            if (watchCount > 0 && ++seen >= watchCount) return Pgwarden.OK;
          }
        } catch (ApiException e) {
          if (e.status() == 0 || e.status() / 100 == 4) throw e;
          // the server's stream failed: reconnect after the last event seen
        } catch (java.io.UncheckedIOException e) {
          // the connection broke: reconnect (an unreachable controller then fails with exit code 3)
        }
        Thread.sleep(Math.max(100, Math.min(interval, 1000)));
      }
    }

    /** One line on an event: what it says, and who asked for it when an operator did. */
    static String describe(Dto.EventView e) {
      var ev = e.event();
      if (ev == null) return "";
      String what;
      if (ev.has("rule")) {
        what = ev.path("rule").asText() + ": " + ev.path("reason").asText();
      } else if (ev.has("state")) {
        what = "reached " + ev.path("state").asText();
      } else if (ev.has("healthy")) {
        what = (ev.path("healthy").asBoolean() ? "healthy" : "unhealthy") + " (" + ev.path("observer").asText() + ": "
            + ev.path("detail").asText() + ")";
      } else if (ev.has("address")) {
        what = ev.path("name").asText() + " registered at " + ev.path("address").path("host").asText() + ":"
            + ev.path("address").path("port").asText();
      } else if (ev.has("settings")) {
        what = (ev.has("node_id") ? "node " + ev.path("node_id").asText() + " " : "") + "settings "
            + ev.path("settings");
      } else if (ev.has("reason") && ev.path("reason").isTextual()) {
        what = ev.path("reason").asText();
      } else {
        String json = ev.toString();
        what = json.length() > 120 ? json.substring(0, 117) + "..." : json;
      }
      var by = ev.path("by");
      String who = by.path("who").asText("");
      if (!ev.has("rule") && !who.isEmpty() && !who.equals("controller")) {
        String why = by.path("reason").asText("");
        what += " (by " + who + (why.isEmpty() ? "" : ": " + why) + ")";
      }
      return what;
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
