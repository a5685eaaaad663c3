package io.pgwarden.keeper.pg;

import io.pgwarden.model.Lsn;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The parts of pg_controldata's output pgwarden acts on. Note that on a freshly promoted primary the
 * checkpoint timeline is still the old one until the first checkpoint after promotion completes.
 *
 * @param state "shut down", "shut down in recovery", "in production", "in archive recovery", ...
 * @param checkpointLocation "Latest checkpoint location"; after a clean shutdown, the end of the WAL
 */
public record ControlData(
    long systemIdentifier,
    String state,
    Lsn checkpointLocation,
    Lsn redoLocation,
    int checkpointTimeline,
    Lsn minRecoveryEnd,
    int minRecoveryEndTimeline,
    boolean walLogHints,
    int dataChecksumVersion,
    Map<String, String> raw) {

  private static final Set<String> CLEAN = Set.of("shut down", "shut down in recovery");

  /** True when the cluster was shut down cleanly (pg_rewind's requirement). */
  public boolean cleanlyShutDown() {
    return CLEAN.contains(state);
  }

  public static ControlData parse(String output) {
    Map<String, String> m = new LinkedHashMap<>();
    for (String line : output.split("\n")) {
      int colon = line.indexOf(':');
      if (colon <= 0) continue;
      m.put(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
    }
    String sysid = m.get("Database system identifier");
    if (sysid == null) throw new IllegalArgumentException("not pg_controldata output: " + firstLine(output));
    return new ControlData(
        Long.parseUnsignedLong(sysid),
        m.getOrDefault("Database cluster state", "unknown"),
        lsn(m.get("Latest checkpoint location")),
        lsn(m.get("Latest checkpoint's REDO location")),
        integer(m.get("Latest checkpoint's TimeLineID")),
        lsn(m.get("Minimum recovery ending location")),
        integer(m.get("Min recovery ending loc's timeline")),
        "on".equals(m.get("wal_log_hints setting")),
        integer(m.get("Data page checksum version")),
        Map.copyOf(m));
  }

  private static Lsn lsn(String s) {
    return s == null ? Lsn.ZERO : Lsn.parse(s);
  }

  private static int integer(String s) {
    return s == null ? 0 : Integer.parseInt(s);
  }

  private static String firstLine(String s) {
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
