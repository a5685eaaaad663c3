package io.pgwarden.keeper;

import java.util.SortedSet;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The node ids named in a synchronous_standby_names value ("ANY 1 (pgwarden_2, pgwarden_3)"). */
final class SyncNames {
  private static final Pattern MEMBER = Pattern.compile("\"?pgwarden_(\\d+)\"?");

  private SyncNames() {}

  static SortedSet<Integer> members(String value) {
    SortedSet<Integer> ids = new TreeSet<>();
    if (value == null) return ids;
    Matcher m = MEMBER.matcher(value);
    while (m.find()) ids.add(Integer.parseInt(m.group(1)));
    return ids;
  }
}
