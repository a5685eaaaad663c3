package io.pgwarden.lab;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * Inserts one numbered row every {@code periodMs} and records every acknowledgement: which row, when
 * (System.nanoTime) and which server's port answered. A failed insert is not retried (its number is
 * not reused: it may or may not have committed); the connection is opened again for the next one.
 *
 * <p>Two kinds: the client, through a multi-host JDBC URL with {@code targetServerType=primary}; and
 * the adversary, connected straight to one node with {@code synchronous_commit = local}, whose
 * acknowledgements after another node's first one would be writes taken by two nodes at once.
 */
public final class Writer implements AutoCloseable {
  public static final String TABLE = "pgw_writes";

  /** One acknowledged insert. */
  public record Ack(long id, long nanos, long wallMs, int port) {}

  private final String name;
  private final String url;
  private final Properties props;
  private final long periodMs;
  private final String setup;
  private final List<Ack> acks = new ArrayList<>();
  private final List<Long> failedAt = new ArrayList<>();
  private volatile boolean running;
  private Thread thread;
  private long nextId;
  private int failures;
  private String lastError;

  private Writer(String name, String url, Properties props, long periodMs, String setup, long firstId) {
    this.name = name;
    this.url = url;
    this.props = props;
    this.periodMs = periodMs;
    this.setup = setup;
    this.nextId = firstId;
  }

  /** Driver settings of the client writer, as the benchmark states them. */
  public static final String CLIENT_PARAMS = "targetServerType=primary&connectTimeout=1&socketTimeout=2"
      + "&hostRecheckSeconds=10&sslmode=disable";

  /** The client: the multi-host URL, targetServerType=primary. */
  public static Writer client(Lab lab, long periodMs, long firstId) {
    return new Writer("client", lab.jdbcUrl(CLIENT_PARAMS), user(), periodMs, null, firstId);
  }

  /**
   * An adversary: straight to {@code n}'s port, with {@code synchronous_commit} set to {@code mode}
   * ("local": commits wait for no standby; "on": pgwarden's default, they wait for the quorum).
   */
  public static Writer adversary(Lab.Node n, String mode, long periodMs, long firstId) {
    return new Writer("adversary-" + mode + "-" + n.name, "jdbc:postgresql://" + n.host() + ":" + n.pgport + "/"
        + n.lab().dbname + "?connectTimeout=1&socketTimeout=2&sslmode=disable", user(), periodMs,
        "SET synchronous_commit = " + mode, firstId);
  }

  private static Properties user() {
    Properties p = new Properties();
    p.setProperty("user", "postgres");
    return p;
  }

  /** Creates the table the writers insert into, through {@code c}. */
  public static void createTable(Connection c) throws SQLException {
    try (Statement st = c.createStatement()) {
      st.execute("CREATE TABLE IF NOT EXISTS " + TABLE + " (id bigint PRIMARY KEY, writer text NOT NULL,"
          + " at timestamptz NOT NULL DEFAULT now())");
    }
  }

  public synchronized Writer start() {
    running = true;
    thread = new Thread(this::loop, "writer-" + name);
    thread.setDaemon(true);
    thread.start();
    return this;
  }

  private void loop() {
    Connection c = null;
    PreparedStatement ps = null;
    long next = System.nanoTime();
    while (running) {
      long id;
      synchronized (this) {
        id = nextId++;
      }
      try {
        if (c == null) {
          c = DriverManager.getConnection(url, props);
          if (setup != null) {
            try (Statement st = c.createStatement()) {
              st.execute(setup);
            }
          }
          ps = c.prepareStatement("INSERT INTO " + TABLE + " (id, writer) VALUES (?, ?) RETURNING inet_server_port()");
        }
        ps.setLong(1, id);
        ps.setString(2, name);
        int port;
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          port = rs.getInt(1);
        }
        long at = System.nanoTime();
        synchronized (this) {
          acks.add(new Ack(id, at, System.currentTimeMillis(), port));
        }
      } catch (SQLException | RuntimeException e) {
        synchronized (this) {
          failures++;
          failedAt.add(System.nanoTime());
          lastError = e.toString();
        }
        closeQuietly(c);
        c = null;
        ps = null;
      }
      next += periodMs * 1_000_000;
      long now = System.nanoTime();
      if (next < now) next = now; // never burst to catch up
      long sleep = (next - now) / 1_000_000;
      if (sleep > 0) {
        try {
          Thread.sleep(sleep);
        } catch (InterruptedException e) {
          break;
        }
      }
    }
    closeQuietly(c);
  }

  private static void closeQuietly(Connection c) {
    if (c == null) return;
    try {
      c.close();
    } catch (SQLException | RuntimeException ignored) {
      // the connection is gone anyway
    }
  }

  public synchronized List<Ack> acks() {
    return List.copyOf(acks);
  }

  public synchronized int failures() {
    return failures;
  }

  public synchronized String lastError() {
    return lastError;
  }

  /** The first acknowledgement at or after {@code nanos} from a server other than {@code notPort} (0: any). */
  public synchronized Ack firstAckAfter(long nanos, int notPort) {
    for (Ack a : acks) {
      if (a.nanos() >= nanos && a.port() != notPort) return a;
    }
    return null;
  }

  /** Failed inserts after {@code nanos}. */
  public synchronized long failuresAfter(long nanos) {
    return failedAt.stream().filter(f -> f > nanos).count();
  }

  /** The first acknowledgement after the first failure after {@code nanos}. */
  public synchronized Ack firstAckAfterFailure(long nanos) {
    Long f = failedAt.stream().filter(x -> x > nanos).findFirst().orElse(null);
    return f == null ? null : firstAckAfter(f, 0);
  }

  /** Acknowledgements after {@code nanos}. */
  public synchronized long acksAfter(long nanos) {
    return acks.stream().filter(a -> a.nanos() > nanos).count();
  }

  /** The longest time between two consecutive acknowledgements within [from, to] (ms). */
  public synchronized long longestGapMs(long fromNanos, long toNanos) {
    long prev = -1;
    long max = 0;
    for (Ack a : acks) {
      if (a.nanos() < fromNanos) {
        prev = a.nanos();
        continue;
      }
      if (a.nanos() > toNanos) break;
      if (prev >= 0) max = Math.max(max, a.nanos() - prev);
      prev = a.nanos();
    }
    return max / 1_000_000;
  }

  @Override
  public void close() {
    running = false;
    Thread t;
    synchronized (this) {
      t = thread;
    }
    if (t != null) {
      try {
        t.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** The ids in {@code expected} that {@code c}'s server does not have. */
  public static List<Long> missing(Connection c, List<Ack> expected) throws SQLException {
    java.util.Set<Long> have = new java.util.HashSet<>();
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT id FROM " + TABLE)) {
      while (rs.next()) have.add(rs.getLong(1));
    }
    List<Long> miss = new ArrayList<>();
    for (Ack a : expected) {
      if (!have.contains(a.id())) miss.add(a.id());
    }
    return miss;
  }
}
