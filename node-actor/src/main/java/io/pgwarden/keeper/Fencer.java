package io.pgwarden.keeper;

import io.pgwarden.keeper.pg.LocalPg;
import io.pgwarden.keeper.pg.PgCluster;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fence, on a thread of its own: it bypasses every queue, so it stops the postmaster even while the
 * executor is busy with a base backup or stuck in a hung query. {@code pg_ctl stop -m immediate} with a
 * one-second wait, then SIGKILL of the postmaster and of every process that was its child. Requests that
 * arrive while a fence runs are folded into it (the step function repeats the fence while PostgreSQL
 * still looks writable).
 */
public final class Fencer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Fencer.class);
  static final Duration IMMEDIATE_WAIT = Duration.ofSeconds(1);

  private final PgCluster cluster;
  private final String label;
  private final ExecutorService thread;
  private final AtomicBoolean running = new AtomicBoolean();
  private final AtomicLong fences = new AtomicLong();

  public Fencer(LocalPg pg, String label) {
    this.cluster = new PgCluster(pg);
    this.label = label;
    this.thread = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "pgwarden-fence-" + pg.nodeId());
      t.setDaemon(true);
      t.setPriority(Thread.MAX_PRIORITY);
      return t;
    });
  }

  /** Starts a fence now (returns at once); a fence already running covers this request. */
  public void fence(String reason) {
    if (!running.compareAndSet(false, true)) return;
    try {
      thread.execute(() -> {
        long t0 = System.nanoTime();
        try {
          PgCluster.Stopped s = cluster.fence(IMMEDIATE_WAIT);
          fences.incrementAndGet();
          long ms = (System.nanoTime() - t0) / 1_000_000;
          if (s == PgCluster.Stopped.NOT_RUNNING) {
            log.warn("{}: FENCE: PostgreSQL was not running ({})", label, reason);
          } else {
            log.warn("{}: FENCE: PostgreSQL stopped ({}) in {} ms because {}", label, s, ms, reason);
          }
        } catch (RuntimeException e) {
          log.error("{}: FENCE FAILED ({}): {}; the next fence is tried within a report interval", label, reason,
              e.getMessage());
        } finally {
          running.set(false);
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      running.set(false);
    }
  }

  /** Fences completed since start (tests). */
  public long completed() {
    return fences.get();
  }

  @Override
  public void close() {
    thread.shutdown();
    try {
      thread.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
