package io.pgwarden.keeper.pg;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * pgwarden's block at the top of pg_hba.conf (the first matching line wins): exact entries for the
 * formation's peers and nothing broader. For each peer address: {@code replication} for the replication
 * role (streaming, pg_basebackup) and the {@code postgres} database for the same role (pg_rewind and the
 * rewind preconditions). Plus the keeper's own superuser connection on loopback, and a line that makes
 * liveness probes ({@code pgwarden_probe}, a role that does not exist) stop at a password challenge, so
 * that PostgreSQL logs nothing for them. Lines outside the block are the operator's and are kept.
 */
public final class HbaConfig {
  public static final String FILE = "pg_hba.conf";
  public static final String PROBE_USER = "pgwarden_probe";
  static final String BEGIN = "# BEGIN pgwarden managed block (rewritten by pgwarden; edits inside are lost)";
  static final String END = "# END pgwarden managed block";

  /** A node of the formation that connects to this one. */
  public record Peer(int nodeId, String host) {
    public Peer {
      StandbyConfig.checkHost(host);
    }
  }

  private final LocalPg pg;

  public HbaConfig(LocalPg pg) {
    this.pg = pg;
  }

  /** The managed block for these peers. */
  public List<String> block(List<Peer> peers) {
    String peerAuth = pg.replicationPassword() == null ? "trust" : "scram-sha-256";
    String localAuth = pg.superuserPassword() == null ? "trust" : "scram-sha-256";
    String self = pg.connectHost();
    List<String> lines = new ArrayList<>();
    lines.add(BEGIN);
    lines.add(row("host", "all", pg.superuser(), cidr(self), localAuth) + "  # the keeper's own connection");
    Set<String> seen = new LinkedHashSet<>();
    for (Peer p : peers) {
      String addr = cidr(p.host());
      if (!seen.add(addr)) continue;
      lines.add(row("host", "replication", pg.replicationUser(), addr, peerAuth) + "  # node " + p.nodeId());
      lines.add(row("host", "postgres", pg.replicationUser(), addr, peerAuth) + "  # node " + p.nodeId() + ": pg_rewind");
    }
    lines.add(row("host", "postgres", PROBE_USER, "all", "scram-sha-256") + "  # probes: never authenticate");
    lines.add(END);
    return lines;
  }

  /** Replaces the managed block (or puts it first). The caller reloads a running server. */
  public void write(List<Peer> peers) {
    PgFiles.write(pg.file(FILE), render(PgFiles.read(pg.file(FILE)).orElse(""), block(peers)));
  }

  static String render(String existing, List<String> block) {
    List<String> out = new ArrayList<>(block);
    boolean inside = false;
    for (String line : existing.split("\n", -1)) {
      if (line.trim().equals(BEGIN)) {
        inside = true;
      } else if (line.trim().equals(END)) {
        inside = false;
      } else if (!inside) {
        out.add(line);
      }
    }
    while (out.size() > block.size() && out.get(out.size() - 1).isBlank()) out.remove(out.size() - 1);
    return String.join("\n", out) + "\n";
  }

  static String cidr(String host) {
    if (host.contains("/")) return host;
    if (host.matches("[0-9.]+")) return host + "/32";
    if (host.contains(":")) return host + "/128";
    return host;
  }

  private static String row(String type, String db, String user, String addr, String method) {
    return String.format("%-7s %-12s %-22s %-20s %s", type, db, user, addr, method);
  }
}
