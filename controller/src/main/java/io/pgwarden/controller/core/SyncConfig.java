package io.pgwarden.controller.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A synchronous replication quorum: commits on {@code primaryId} wait for {@code required} of
 * {@code members}. {@code required == 0} means asynchronous: an acknowledged commit may exist on the
 * primary alone.
 */
public record SyncConfig(int primaryId, int required, SortedSet<Integer> members) {
  public static final SyncConfig NONE = new SyncConfig(0, 0, Collections.emptySortedSet());
  private static final Pattern ANY = Pattern.compile("(?i)^\\s*(?:ANY\\s+)?(\\d+)\\s*\\((.*)\\)\\s*$");
  private static final Pattern NAME = Pattern.compile("\"?pgwarden_(\\d+)\"?");

  public SyncConfig {
    members = Collections.unmodifiableSortedSet(new TreeSet<>(members));
  }

  public boolean synchronous() {
    return required > 0 && !members.isEmpty();
  }

  /**
   * How many members must report before an election can be sure to see every acknowledged commit: an
   * acknowledged commit is on at least {@code required} members, so any {@code |members| - required + 1}
   * of them include one that has it.
   */
  public int mustReport() {
    return members.size() - required + 1;
  }

  /** The synchronous_standby_names value a primary applies for this quorum, ordered as given. */
  public static String standbyNames(int required, List<Integer> orderedMembers) {
    if (required <= 0 || orderedMembers.isEmpty()) return "";
    List<String> names = new ArrayList<>();
    for (int id : orderedMembers) names.add("pgwarden_" + id);
    return "ANY " + required + " (" + String.join(", ", names) + ")";
  }

  /** Parses what a primary reports having in effect; names that are not pgwarden's are ignored. */
  public static SyncConfig parse(int primaryId, String value) {
    if (value == null || value.isBlank()) return new SyncConfig(primaryId, 0, Collections.emptySortedSet());
    SyncConfig canonical = parseCanonical(primaryId, value);
    if (canonical != null) return canonical;
    Matcher m = ANY.matcher(value);
    if (!m.matches()) {
      // FIRST n (...) and bare lists are not written by pgwarden; treat as "at least one of them".
      return parseList(primaryId, 1, value);
    }
    return parseList(primaryId, Integer.parseInt(m.group(1)), m.group(2));
  }

  /**
   * The form pgwarden itself writes ({@link #standbyNames}: "ANY n (pgwarden_a, pgwarden_b)"), read
   * without a regular expression: it is parsed on every report and every rule run. Null for any other
   * form, which the general parser reads.
   */
  private static SyncConfig parseCanonical(int primaryId, String v) {
    if (!v.startsWith("ANY ")) return null;
    int i = 4;
    int n = 0;
    int start = i;
    while (i < v.length() && Character.isDigit(v.charAt(i)) && i - start < 9) n = n * 10 + (v.charAt(i++) - '0');
    if (i == start || !v.startsWith(" (", i)) return null;
    i += 2;
    SortedSet<Integer> ids = new TreeSet<>();
    while (true) {
      if (!v.startsWith("pgwarden_", i)) return null;
      i += 9;
      int id = 0;
      int s = i;
      while (i < v.length() && Character.isDigit(v.charAt(i)) && i - s < 9) id = id * 10 + (v.charAt(i++) - '0');
      if (i == s) return null;
      ids.add(id);
      if (v.startsWith(", ", i)) {
        i += 2;
      } else if (i == v.length() - 1 && v.charAt(i) == ')') {
        break;
      } else {
        return null;
      }
    }
    return new SyncConfig(primaryId, ids.isEmpty() ? 0 : n, ids);
  }

  private static SyncConfig parseList(int primaryId, int required, String list) {
    SortedSet<Integer> ids = new TreeSet<>();
    Matcher n = NAME.matcher(list);
    while (n.find()) ids.add(Integer.parseInt(n.group(1)));
    return new SyncConfig(primaryId, ids.isEmpty() ? 0 : required, ids);
  }
}
