package io.pgwarden.sim;

import java.util.ArrayList;
import java.util.List;

/**
 * A process on a host: alive or dead, paused or not (SIGSTOP, or its whole host paused), and an
 * incarnation that grows at every start so that events addressed to a previous life are dropped. Work
 * that arrives while the process is paused waits, in order, until it runs again.
 */
final class Proc {
  final World w;
  final Host host;
  final String name;
  boolean alive;
  boolean paused;
  long incarnation;
  private List<Runnable> deferred = new ArrayList<>();

  Proc(World w, Host host, String name) {
    this.w = w;
    this.host = host;
    this.name = name;
    host.procs.add(this);
  }

  boolean running() {
    return alive && !paused && host.up && !host.paused;
  }

  void start() {
    alive = true;
    paused = false;
    incarnation++;
    deferred = new ArrayList<>();
  }

  void kill() {
    alive = false;
    incarnation++;
    deferred = new ArrayList<>();
  }

  /** Runs {@code r} in this process's current life after {@code delayUs} of true time. */
  void post(long delayUs, Runnable r) {
    long inc = incarnation;
    w.after(delayUs, () -> deliver(inc, r));
  }

  /** Runs {@code r} now in this process's current life (later if it is paused; never if it is dead). */
  void now(Runnable r) {
    deliver(incarnation, r);
  }

  /** Runs {@code r} after {@code localMs} on this host's monotonic clock. */
  void timer(long localMs, Runnable r) {
    post(host.clock.trueDelay(localMs * 1000), r);
  }

  void deliver(long inc, Runnable r) {
    if (inc != incarnation || !alive || !host.up) return;
    if (paused || host.paused) {
      deferred.add(r);
      return;
    }
    r.run();
  }

  /** The process runs again: what waited runs now, in arrival order. */
  void resumed() {
    if (!running() || deferred.isEmpty()) return;
    List<Runnable> d = deferred;
    deferred = new ArrayList<>();
    long inc = incarnation;
    for (Runnable r : d) w.after(0, () -> deliver(inc, r));
  }
}
