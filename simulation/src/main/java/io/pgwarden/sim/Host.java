package io.pgwarden.sim;

import java.util.ArrayList;
import java.util.List;

/** A machine: powered or not, paused (a frozen VM) or not, with its own clocks and processes. */
final class Host {
  final int index;
  final String name;
  final Clock clock;
  boolean up = true;
  boolean paused;
  final List<Proc> procs = new ArrayList<>();

  Host(int index, String name, Clock clock) {
    this.index = index;
    this.name = name;
    this.clock = clock;
  }

  boolean running() {
    return up && !paused;
  }

  @Override
  public String toString() {
    return name;
  }
}
