package io.pgwarden.keeper.pg;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * pgwarden's own settings file, {@code pgwarden.conf} in PGDATA, and the include lines at the end of
 * postgresql.conf that load it, then {@code pgwarden-replication.conf}, then {@code pgwarden-standby.conf}
 * (later files win). Everything in pgwarden.conf is rewritten before every start: pg_basebackup and
 * pg_rewind copy the source's configuration files, port and addresses included.
 */
public final class NodeConfig {
  public static final String FILE = "pgwarden.conf";
  static final List<String> INCLUDES = List.of(FILE, ReplicationConfig.FILE, StandbyConfig.FILE);
  private static final String MARKER = "# pgwarden: include pgwarden's settings; keep these lines last";

  private final LocalPg pg;

  public NodeConfig(LocalPg pg) {
    this.pg = pg;
  }

  /** The settings pgwarden.conf holds, in file order. */
  public Map<String, String> settings() {
    Map<String, String> s = new LinkedHashMap<>();
    // node-specific: copied from the source by every clone and rewind, so always rewritten
    s.put("listen_addresses", PgFiles.quoteConf(pg.listenAddress()));
    s.put("port", Integer.toString(pg.port()));
    s.put("unix_socket_directories", PgFiles.quoteConf(pg.socketDir().toString()));
    s.put("cluster_name", PgFiles.quoteConf(pg.applicationName()));
    // replication and pg_rewind
    s.put("wal_level", "replica");
    s.put("wal_log_hints", "on");
    s.put("full_page_writes", "on");
    s.put("max_wal_senders", "16");
    s.put("max_replication_slots", "16");
    s.put("hot_standby", "on");
    s.put("hot_standby_feedback", "on");
    // failure detection: a keepalive every second, a hang noticed within 2 s, reconnect retries every 200 ms
    s.put("wal_receiver_status_interval", "'1s'");
    s.put("wal_sender_timeout", "'2s'");
    s.put("wal_receiver_timeout", "'2s'");
    s.put("wal_retrieve_retry_interval", "'200ms'");
    // a cleanly stopped old primary must still hold WAL back to its last checkpoint before the fork
    s.put("wal_keep_size", "'256MB'");
    s.put("max_slot_wal_keep_size", "'1GB'");
    // never come back writable on the postmaster's own after a crash: the keeper decides
    s.put("restart_after_crash", "off");
    // crash recovery (a fenced or killed primary, a rewound node) first flushes PGDATA: one syncfs instead
    // of an fsync of every file
    s.put("recovery_init_sync_method", "syncfs");
    s.put("logging_collector", "off");
    s.put("log_line_prefix", "'%m [%p] %q%a '");
    s.put("log_checkpoints", "on");
    s.put("log_replication_commands", "on");
    if (!pg.durable()) s.put("fsync", "off");
    for (var e : pg.extraSettings().entrySet()) s.put(e.getKey(), PgFiles.quoteConf(e.getValue()));
    return s;
  }

  /** Writes pgwarden.conf and makes sure postgresql.conf includes the three pgwarden files last. */
  public void write() {
    StringBuilder b = new StringBuilder("# Written by pgwarden before every start; edits here are lost.\n");
    for (var e : settings().entrySet()) b.append(e.getKey()).append(" = ").append(e.getValue()).append('\n');
    PgFiles.write(pg.file(FILE), b.toString());
    ensureIncludes();
  }

  /**
   * After pg_basebackup or pg_rewind copied the source's files: our node settings back, postgresql.auto.conf
   * cleaned, the replication settings reset (a clone never inherits synchronous_standby_names,
   * default_transaction_read_only or primary_conninfo), no standby setup, no leftover promote request,
   * and this node's own pg_hba.conf back when there was one.
   */
  public void afterCopy(java.util.Optional<String> savedHba) {
    write();
    sanitizeAutoConf();
    new ReplicationConfig(pg).reset();
    new StandbyConfig(pg).clear();
    PgFiles.delete(pg.file("promote"));
    savedHba.ifPresent(h -> PgFiles.write(pg.file(HbaConfig.FILE), h));
  }

  void ensureIncludes() {
    Path conf = pg.file("postgresql.conf");
    String text = PgFiles.read(conf).orElse("");
    List<String> ours = new ArrayList<>();
    ours.add(MARKER);
    for (String f : INCLUDES) ours.add("include_if_exists = '" + f + "'");
    List<String> kept = new ArrayList<>();
    for (String line : text.split("\n", -1)) {
      if (!ours.contains(line.trim())) kept.add(line);
    }
    while (!kept.isEmpty() && kept.get(kept.size() - 1).isBlank()) kept.remove(kept.size() - 1);
    kept.add("");
    kept.addAll(ours);
    String updated = String.join("\n", kept) + "\n";
    if (!updated.equals(text)) PgFiles.write(conf, updated);
  }

  /**
   * Removes from postgresql.auto.conf (ALTER SYSTEM's file, read after everything else) every setting
   * pgwarden manages, so a value copied from a clone's source cannot override ours.
   */
  void sanitizeAutoConf() {
    Path auto = pg.file("postgresql.auto.conf");
    var text = PgFiles.read(auto);
    if (text.isEmpty()) return;
    Set<String> managed = new TreeSet<>(settings().keySet());
    managed.addAll(ReplicationConfig.KEYS);
    managed.addAll(StandbyConfig.KEYS);
    List<String> kept = new ArrayList<>();
    boolean changed = false;
    for (String line : text.get().split("\n", -1)) {
      int eq = line.indexOf('=');
      String key = eq > 0 ? line.substring(0, eq).trim().toLowerCase(java.util.Locale.ROOT) : "";
      if (!line.trim().startsWith("#") && managed.contains(key)) {
        changed = true;
      } else {
        kept.add(line);
      }
    }
    if (changed) PgFiles.write(auto, String.join("\n", kept));
  }
}
