package io.pgwarden.controller.core;

import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The controller's volatile view of a formation in this incarnation: per-node observations, when this
 * incarnation started, and when its last pause ended (silence is never judged across a pause).
 */
public record Observations(long epoch, long bootMono, long lastTickMono, long pauseEndMono,
    SortedMap<Integer, Observed> nodes) {

  public static Observations boot(long epoch, long mono) {
    return new Observations(epoch, mono, mono, mono, Collections.emptySortedMap());
  }

  public Observed of(int nodeId) {
    return nodes.getOrDefault(nodeId, Observed.NOTHING);
  }

  public Observations with(int nodeId, Observed o) {
    var m = new TreeMap<>(nodes);
    m.put(nodeId, o);
    return new Observations(epoch, bootMono, lastTickMono, pauseEndMono, Collections.unmodifiableSortedMap(m));
  }

  public Observations without(int nodeId) {
    if (!nodes.containsKey(nodeId)) return this;
    var m = new TreeMap<>(nodes);
    m.remove(nodeId);
    return new Observations(epoch, bootMono, lastTickMono, pauseEndMono, Collections.unmodifiableSortedMap(m));
  }

  /** A tick: a gap longer than {@code pauseMs} since the previous one means this controller was paused. */
  public Observations tick(long mono, long pauseMs) {
    long pauseEnd = mono - lastTickMono > pauseMs ? mono : pauseEndMono;
    return new Observations(epoch, bootMono, Math.max(lastTickMono, mono), pauseEnd, nodes);
  }

  public long uptime(long mono) {
    return mono - bootMono;
  }
}
