package io.pgwarden.keeper.app;

import io.pgwarden.os.Command;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Readiness and watchdog notifications for a systemd service of {@code Type=notify} (see
 * {@code pgwarden show systemd}): when {@code NOTIFY_SOCKET} is set, {@code systemd-notify READY=1} once
 * the keeper runs, and {@code WATCHDOG=1} from the keeper's tick at half the {@code WATCHDOG_USEC}
 * systemd asks for — a keeper whose loop hangs stops pinging and is killed with its PostgreSQL
 * ({@code KillMode=control-group}). The command runs on a thread of its own (argv, no shell) with
 * {@code --pid} naming this process, since the unit allows notifications from any of its processes.
 */
final class SystemdNotify implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SystemdNotify.class);

  private final String socket;
  private final long watchdogEveryMs;
  private final ExecutorService thread;
  private final AtomicBoolean busy = new AtomicBoolean();
  private volatile long lastPingNanos = Long.MIN_VALUE / 2;

  private SystemdNotify(String socket, long watchdogEveryMs) {
    this.socket = socket;
    this.watchdogEveryMs = watchdogEveryMs;
    this.thread = socket == null ? null : Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "pgwarden-systemd-notify");
      t.setDaemon(true);
      return t;
    });
  }

  static SystemdNotify disabled() {
    return new SystemdNotify(null, 0);
  }

  static SystemdNotify fromEnvironment() {
    String sock = System.getenv("NOTIFY_SOCKET");
    if (sock == null || sock.isBlank()) return disabled();
    long every = 0;
    String usec = System.getenv("WATCHDOG_USEC");
    if (usec != null && !usec.isBlank()) {
      try {
        every = Math.max(100, Long.parseLong(usec.trim()) / 2_000);
      } catch (NumberFormatException e) {
        log.warn("WATCHDOG_USEC='{}' is not a number: no watchdog notifications", usec);
      }
    }
    log.info("systemd notifications on {} (watchdog every {} ms)", sock, every == 0 ? "never" : every);
    return new SystemdNotify(sock, every);
  }

  boolean enabled() {
    return socket != null;
  }

  void ready(String status) {
    if (socket == null) return;
    send(List.of("READY=1", "STATUS=" + status));
  }

  /** Called at every tick; pings at most every half watchdog period. */
  void watchdog() {
    if (socket == null || watchdogEveryMs == 0) return;
    long now = System.nanoTime();
    if (now - lastPingNanos < watchdogEveryMs * 1_000_000) return;
    if (!busy.compareAndSet(false, true)) return;
    lastPingNanos = now;
    send(List.of("WATCHDOG=1"));
  }

  private void send(List<String> assignments) {
    List<String> argv = new ArrayList<>(List.of("systemd-notify", "--pid=" + ProcessHandle.current().pid()));
    argv.addAll(assignments);
    try {
      thread.execute(() -> {
        try {
          Command.Result r = Command.of("systemd-notify", argv, Duration.ofSeconds(5))
              .withEnv(Map.of("NOTIFY_SOCKET", socket)).run();
          if (!r.ok()) log.warn("systemd-notify failed: {}", r.describe());
        } finally {
          busy.set(false);
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      busy.set(false);
    }
  }

  @Override
  public void close() {
    if (thread != null) thread.shutdownNow();
  }
}
