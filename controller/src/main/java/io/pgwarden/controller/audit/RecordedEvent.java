package io.pgwarden.controller.audit;

import io.pgwarden.model.JournalEvent;
import io.pgwarden.model.NodeEvent;

/**
 * One journal row as the audit reads it: the persistence id it belongs to, its sequence number in that
 * persistence id, and the event. Formation events live under {@code formation|<formation>}, a node's own
 * events under {@code node|<formation>|<nodeId>} (the ids the supervisor and the node actors persist
 * under; the node id of a node event is read from its persistence id).
 */
public record RecordedEvent(String persistenceId, long sequenceNr, JournalEvent event) {
  public static final String FORMATION_PREFIX = "formation|";
  public static final String NODE_PREFIX = "node|";

  public RecordedEvent {
    if (persistenceId == null || persistenceId.isEmpty()) throw new IllegalArgumentException("empty persistence id");
    if (event == null) throw new IllegalArgumentException("null event in " + persistenceId + "#" + sequenceNr);
  }

  public static String formationPid(String formation) {
    return FORMATION_PREFIX + formation;
  }

  public static String nodePid(String formation, int nodeId) {
    return NODE_PREFIX + formation + "|" + nodeId;
  }

  public static RecordedEvent ofFormation(String formation, long seq, JournalEvent e) {
    return new RecordedEvent(formationPid(formation), seq, e);
  }

  public static RecordedEvent ofNode(String formation, int nodeId, long seq, NodeEvent e) {
    return new RecordedEvent(nodePid(formation, nodeId), seq, e);
  }

  public long at() {
    return event.at();
  }

  /** The formation this row belongs to, or null when the persistence id follows neither pattern. */
  public String formation() {
    return formationOf(persistenceId);
  }

  /** The node id of a node persistence id, or null. */
  public Integer nodeId() {
    return nodeIdOf(persistenceId);
  }

  public static String formationOf(String pid) {
    if (pid.startsWith(FORMATION_PREFIX)) return pid.substring(FORMATION_PREFIX.length());
    if (pid.startsWith(NODE_PREFIX)) {
      int bar = pid.lastIndexOf('|');
      return bar > NODE_PREFIX.length() ? pid.substring(NODE_PREFIX.length(), bar) : null;
    }
    return null;
  }

  public static Integer nodeIdOf(String pid) {
    if (!pid.startsWith(NODE_PREFIX)) return null;
    int bar = pid.lastIndexOf('|');
    if (bar <= NODE_PREFIX.length()) return null;
    try {
      return Integer.parseInt(pid.substring(bar + 1));
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** True when {@code pid} is the formation's own persistence id or one of its nodes'. */
  public static boolean belongsTo(String pid, String formation) {
    if (pid.startsWith(FORMATION_PREFIX)) {
      return pid.length() == FORMATION_PREFIX.length() + formation.length() && pid.endsWith(formation);
    }
    return pid.startsWith(NODE_PREFIX) && pid.startsWith(formation, NODE_PREFIX.length())
        && pid.length() > NODE_PREFIX.length() + formation.length()
        && pid.charAt(NODE_PREFIX.length() + formation.length()) == '|'
        && pid.indexOf('|', NODE_PREFIX.length() + formation.length() + 1) < 0;
  }
}
