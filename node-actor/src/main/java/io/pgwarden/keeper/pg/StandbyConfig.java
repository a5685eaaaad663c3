package io.pgwarden.keeper.pg;

import io.pgwarden.model.Lsn;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A standby's setup: {@code standby.signal} plus {@code pgwarden-standby.conf} with primary_conninfo,
 * primary_slot_name and recovery_target_timeline = 'latest'. primary_conninfo is reloadable (PostgreSQL
 * 13+), so re-pointing a running standby is a rewrite and a reload.
 */
public final class StandbyConfig {
  public static final String FILE = "pgwarden-standby.conf";
  static final List<String> KEYS = List.of("primary_conninfo", "primary_slot_name", "recovery_target_timeline",
      "recovery_target_lsn", "recovery_target_inclusive", "recovery_target_action", "restore_command");
  private static final Pattern HOST = Pattern.compile("[A-Za-z0-9.:_-]{1,253}");
  private static final Pattern SLOT = Pattern.compile("[a-z0-9_]{1,63}");
  private static final Pattern TARGET = Pattern.compile("(?m)^recovery_target_lsn = '([0-9A-Fa-f]+/[0-9A-Fa-f]+)'$");

  /** Where a standby streams from. */
  public record Upstream(String host, int port) {
    public Upstream {
      checkHost(host);
      if (port < 1 || port > 65535) throw new IllegalArgumentException("port out of range: " + port);
    }
  }

  private final LocalPg pg;

  public StandbyConfig(LocalPg pg) {
    this.pg = pg;
  }

  /**
   * Writes the standby setup. {@code upstream} null means a standby with no upstream (it replays what it
   * has and waits: the report_lsn shape); {@code slot} null means no slot.
   */
  public void write(Upstream upstream, String slot) {
    write(upstream, slot, null);
  }

  /**
   * As {@link #write(Upstream, String)}, and with {@code recoveryTarget} non-null a recovery target:
   * replay stops (pauses) once it reaches that LSN ({@code recovery_target_lsn}, inclusive,
   * {@code recovery_target_action = 'pause'}). This is the fast_forward setup: a candidate fetches the
   * WAL it misses from the most advanced standby, up to what that standby has and no further. Recovery
   * targets are read at server start only: a running server must be restarted for one to apply
   * (see {@link PgOps#writeFastForwardAndApply}). A later promotion ends the pause.
   */
  public void write(Upstream upstream, String slot, Lsn recoveryTarget) {
    if (slot != null) checkSlot(slot);
    List<String> lines = new ArrayList<>();
    lines.add("# Written by pgwarden: this node is a standby.");
    if (upstream != null) lines.add("primary_conninfo = " + PgFiles.quoteConf(conninfo(upstream)));
    if (slot != null) lines.add("primary_slot_name = " + PgFiles.quoteConf(slot));
    lines.add("recovery_target_timeline = 'latest'");
    if (recoveryTarget != null) {
      lines.add("recovery_target_lsn = " + PgFiles.quoteConf(recoveryTarget.toString()));
      lines.add("recovery_target_inclusive = on");
      lines.add("recovery_target_action = 'pause'");
    }
    PgFiles.write(pg.file(FILE), String.join("\n", lines) + "\n");
    PgFiles.write(pg.file("standby.signal"), "");
  }

  /** Removes the recovery target lines (and keeps the rest of the setup). Returns true when there were some. */
  public boolean clearRecoveryTarget() {
    java.util.Optional<String> text = PgFiles.read(pg.file(FILE));
    if (text.isEmpty()) return false;
    List<String> kept = new ArrayList<>();
    boolean changed = false;
    for (String line : text.get().split("\n")) {
      if (line.startsWith("recovery_target_lsn") || line.startsWith("recovery_target_inclusive")
          || line.startsWith("recovery_target_action")) {
        changed = true;
      } else {
        kept.add(line);
      }
    }
    if (changed) PgFiles.write(pg.file(FILE), String.join("\n", kept) + "\n");
    return changed;
  }

  /** The recovery_target_lsn in the standby file, or null when there is none (or no file). */
  public Lsn recoveryTarget() {
    String text = PgFiles.read(pg.file(FILE)).orElse("");
    Matcher m = TARGET.matcher(text);
    return m.find() ? Lsn.parse(m.group(1)) : null;
  }

  /** Removes standby.signal, recovery.signal and the standby settings. */
  public void clear() {
    PgFiles.delete(pg.file("standby.signal"));
    PgFiles.delete(pg.file("recovery.signal"));
    PgFiles.delete(pg.file(FILE));
  }

  public boolean isStandby() {
    return java.nio.file.Files.exists(pg.file("standby.signal"));
  }

  /** The libpq connection string a standby (and pg_basebackup) uses to reach {@code upstream}. */
  String conninfo(Upstream upstream) {
    return conninfo(upstream, true);
  }

  /** Without the password when it goes on a command line (it goes in PGPASSWORD there). */
  String conninfo(Upstream upstream, boolean withPassword) {
    StringBuilder b = new StringBuilder();
    b.append("host=").append(PgFiles.quoteConninfo(upstream.host()));
    b.append(" port=").append(upstream.port());
    b.append(" user=").append(pg.replicationUser());
    if (withPassword && pg.replicationPassword() != null) b.append(" password=").append(PgFiles.quoteConninfo(pg.replicationPassword()));
    b.append(" application_name=").append(pg.applicationName());
    b.append(" connect_timeout=2 keepalives=1 keepalives_idle=5 keepalives_interval=1 keepalives_count=3");
    return b.toString();
  }

  static void checkHost(String host) {
    if (host == null || !HOST.matcher(host).matches()) {
      throw new IllegalArgumentException("not a host name or address: '" + host + "'");
    }
  }

  static void checkSlot(String slot) {
    if (!SLOT.matcher(slot).matches()) throw new IllegalArgumentException("not a slot name: '" + slot + "'");
  }
}
