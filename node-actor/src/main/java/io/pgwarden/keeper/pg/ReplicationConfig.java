package io.pgwarden.keeper.pg;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code pgwarden-replication.conf}: the settings the keeper changes while PostgreSQL runs
 * (synchronous_standby_names, default_transaction_read_only), changed by rewriting this file and
 * reloading, never with ALTER SYSTEM. Reset to the defaults after every clone and rewind, so a node
 * never inherits its source's values.
 */
public final class ReplicationConfig {
  public static final String FILE = "pgwarden-replication.conf";
  static final List<String> KEYS = List.of("synchronous_standby_names", "default_transaction_read_only");
  private static final Pattern SYNC = Pattern.compile("(?m)^synchronous_standby_names = '((?:[^']|'')*)'$");
  private static final Pattern RO = Pattern.compile("(?m)^default_transaction_read_only = (on|off)$");

  /** The values in the file. */
  public record Values(String synchronousStandbyNames, boolean defaultReadOnly) {
    public static final Values DEFAULTS = new Values("", false);

    public Values {
      synchronousStandbyNames = synchronousStandbyNames == null ? "" : synchronousStandbyNames;
    }
  }

  private final LocalPg pg;

  public ReplicationConfig(LocalPg pg) {
    this.pg = pg;
  }

  public Values read() {
    String text = PgFiles.read(pg.file(FILE)).orElse("");
    Matcher s = SYNC.matcher(text);
    Matcher r = RO.matcher(text);
    return new Values(s.find() ? s.group(1).replace("''", "'") : "", r.find() && r.group(1).equals("on"));
  }

  public void write(Values v) {
    PgFiles.write(pg.file(FILE), "# Written by pgwarden: replication settings changed at runtime (file + reload).\n"
        + "synchronous_standby_names = " + PgFiles.quoteConf(v.synchronousStandbyNames()) + "\n"
        + "default_transaction_read_only = " + (v.defaultReadOnly() ? "on" : "off") + "\n");
  }

  public void reset() {
    write(Values.DEFAULTS);
  }
}
