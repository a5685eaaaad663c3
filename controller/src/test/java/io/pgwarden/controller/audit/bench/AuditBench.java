package io.pgwarden.controller.audit.bench;

import io.pgwarden.controller.audit.AuditJournal;
import io.pgwarden.controller.audit.AuditQuery;
import io.pgwarden.controller.audit.AuditReport;
import io.pgwarden.persistence.JournalStore;
import io.pgwarden.testing.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Audit replay benchmark: writes a journal of {@code --events} events in the journal's own format into an H2
 * file and into a PostgreSQL started for the purpose, then replays every formation of it with a warm JVM
 * (JDBC read per persistence id in sequence order, JournalSerializer, merge, the audit fold and its report),
 * and prints {@code RESULT store=<h2|postgres> events=<n> events_per_s=<x>} for the median measured run.
 *
 * <p>Options: {@code --events N} (1000000), {@code --stores h2,postgres}, {@code --threads T} (the
 * available processors), {@code --warmups W} (2), {@code --runs R} (3), {@code --per-formation E} (10000),
 * {@code --dir D} (where the H2 file goes).
 */
public final class AuditBench {
  record Run(long events, long formations, long incidents, long anomalies, long nanos) {
    double perSecond() {
      return events * 1e9 / nanos;
    }
  }

  public static void main(String[] args) throws Exception {
    long events = 1_000_000;
    List<String> stores = List.of("h2", "postgres");
    int threads = Runtime.getRuntime().availableProcessors();
    int warmups = 2;
    int runs = 3;
    int perFormation = 10_000;
    Path dir = Path.of(System.getProperty("java.io.tmpdir"), "pgwarden-audit-bench");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--events" -> events = Long.parseLong(args[++i]);
        case "--stores" -> stores = Arrays.asList(args[++i].split(","));
        case "--threads" -> threads = Integer.parseInt(args[++i]);
        case "--warmups" -> warmups = Integer.parseInt(args[++i]);
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--per-formation" -> perFormation = Integer.parseInt(args[++i]);
        case "--dir" -> dir = Path.of(args[++i]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]
            + "; options: --events --stores --threads --warmups --runs --per-formation --dir");
      }
    }
    long t = System.nanoTime();
    List<BenchJournal.Template> templates = BenchJournal.templates(perFormation);
    int formations = BenchJournal.formations(templates, events);
    info("templates recorded from the CoreHarness in %.1f s: %s; %d formations", (System.nanoTime() - t) / 1e9,
        templates.stream().map(x -> x.name() + " " + x.events().size() + " events").toList(), formations);
    info("machine: %d processors, java %s, max heap %d MB", Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"), Runtime.getRuntime().maxMemory() >> 20);

    for (String store : stores) {
      if (store.equals("h2")) {
        Files.createDirectories(dir);
        for (String suffix : List.of(".mv.db", ".trace.db")) Files.deleteIfExists(dir.resolve("journal" + suffix));
        JournalStore s = JournalStore.h2File(dir.resolve("journal"));
        bench("h2", s, s, templates, events, threads, warmups, runs);
        info("store=h2 file %s: %d MB", dir.resolve("journal.mv.db"), Files.size(dir.resolve("journal.mv.db")) >> 20);
      } else if (store.equals("postgres")) {
        try (TestPostgres pg = TestPostgres.start("audit-bench")) {
          JournalStore s = new JournalStore(pg.jdbcUrl(), "postgres", "");
          JournalStore writer = new JournalStore(pg.jdbcUrl() + "?reWriteBatchedInserts=true", "postgres", "");
          bench("postgres", s, writer, templates, events, threads, warmups, runs);
        }
      } else {
        throw new IllegalArgumentException("unknown store " + store + ": h2 or postgres");
      }
    }
  }

  static void bench(String name, JournalStore store, JournalStore writeStore, List<BenchJournal.Template> templates,
      long events, int threads, int warmups, int runs) throws Exception {
    store.createSchema();
    long t = System.nanoTime();
    long written;
    try (Connection c = writeStore.connect()) {
      written = JournalRows.write(c, BenchJournal.rows(templates, events, 997), "pgwarden-audit-bench");
    }
    double s = (System.nanoTime() - t) / 1e9;
    info("store=%s wrote %d rows (event_journal + event_tag) in %.1f s (%.0f rows/s)", name, written, s, written / s);
    if (name.equals("postgres")) {
      try (Connection c = store.connect(); var st = c.createStatement()) {
        st.execute("VACUUM ANALYZE event_journal");
      }
    }
    // keep the database open between runs, as the controller's connection pool does (an H2 file closes with its
    // last connection, and reopens with a cold cache)
    try (Connection keepOpen = store.connect()) {
      if (!keepOpen.isValid(10)) throw new IllegalStateException("the " + name + " journal does not answer");
      measure(name, store, events, threads, warmups, runs);
    }
  }

  static void measure(String name, JournalStore store, long events, int threads, int warmups, int runs)
      throws Exception {
    for (int i = 0; i < warmups; i++) {
      Run r = replay(store, threads);
      info("store=%s warm-up %d: %s", name, i + 1, describe(r, threads));
    }
    List<Run> measured = new ArrayList<>();
    for (int i = 0; i < runs; i++) {
      Run r = replay(store, threads);
      measured.add(r);
      info("store=%s run %d: %s", name, i + 1, describe(r, threads));
      if (r.events() != events) throw new IllegalStateException("replayed " + r.events() + " of " + events);
      if (r.anomalies() != 0) throw new IllegalStateException(r.anomalies() + " findings in a clean journal");
    }
    if (threads > 1) {
      Run one = replay(store, 1);
      info("store=%s one thread: %s", name, describe(one, 1));
    }
    measured.sort((a, b) -> Double.compare(a.perSecond(), b.perSecond()));
    Run median = measured.get(measured.size() / 2);
    System.out.printf(Locale.ROOT, "RESULT store=%s events=%d events_per_s=%.0f%n", name, median.events(),
        median.perSecond());
  }

  static String describe(Run r, int threads) {
    return String.format(Locale.ROOT, "%d events, %d formations, %d incidents, %d anomalies in %.2f s -> %.0f"
        + " events/s (threads=%d; load average %s)", r.events(), r.formations(), r.incidents(), r.anomalies(),
        r.nanos() / 1e9, r.perSecond(), threads, loadAverage());
  }

  /** Replays every formation of the journal: one task per formation, one connection per thread. */
  static Run replay(JournalStore store, int threads) throws Exception {
    long t = System.nanoTime();
    Map<String, List<String>> ids;
    try (Connection c = store.connect()) {
      ids = new AuditJournal().persistenceIdsByFormation(c);
    }
    ConcurrentLinkedQueue<Map.Entry<String, List<String>>> todo = new ConcurrentLinkedQueue<>(ids.entrySet());
    AtomicLong events = new AtomicLong();
    AtomicLong incidents = new AtomicLong();
    AtomicLong anomalies = new AtomicLong();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        done.add(pool.submit(() -> {
          AuditJournal journal = new AuditJournal();
          try (Connection c = store.connect()) {
            c.setAutoCommit(false); // PostgreSQL streams with a fetch size only inside a transaction
            Map.Entry<String, List<String>> f;
            while ((f = todo.poll()) != null) {
              AuditReport r = journal.audit(c, f.getKey(), f.getValue(), AuditQuery.all());
              events.addAndGet(r.journal().events());
              incidents.addAndGet(r.incidents().size());
              anomalies.addAndGet(r.findings().stream().filter(x -> !x.severity().equals("info")).count());
            }
            c.commit();
          }
          return null;
        }));
      }
      for (Future<?> f : done) f.get();
    } finally {
      pool.shutdownNow();
    }
    return new Run(events.get(), ids.size(), incidents.get(), anomalies.get(), System.nanoTime() - t);
  }

  /** The machine's 1, 5 and 15 minute load averages: other work on the machine shows in the figures. */
  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (java.io.IOException | RuntimeException e) {
      return "unknown";
    }
  }

  static void info(String fmt, Object... args) {
    System.out.println("INFO " + String.format(Locale.ROOT, fmt, args));
  }
}
