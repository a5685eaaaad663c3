package io.pgwarden.persistence;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where the journal lives: an embedded H2 file (the default) or a PostgreSQL database. Knows the JDBC
 * settings, creates the schema idempotently before persistence starts, and renders the Pekko
 * configuration that points pekko-persistence-jdbc at it.
 */
public record JournalStore(String jdbcUrl, String user, String password) {

  public enum Kind { H2, POSTGRES }

  public static JournalStore h2File(Path file) {
    String base = file.toAbsolutePath().toString();
    if (base.endsWith(".mv.db")) base = base.substring(0, base.length() - ".mv.db".length());
    // WRITE_DELAY=0: a commit reaches the file before it returns. H2's default (500 ms) keeps committed
    // transactions in memory, and a controller killed then lost decisions it had already answered with
    // (found by the end-to-end test that kills the controller during a failover).
    return new JournalStore("jdbc:h2:file:" + base + ";WRITE_DELAY=0", "sa", "");
  }

  public static JournalStore h2Memory(String name) {
    return new JournalStore("jdbc:h2:mem:" + name + ";DB_CLOSE_DELAY=-1", "sa", "");
  }

  public Kind kind() {
    if (jdbcUrl.startsWith("jdbc:h2:")) return Kind.H2;
    if (jdbcUrl.startsWith("jdbc:postgresql:")) return Kind.POSTGRES;
    throw new IllegalArgumentException("unsupported journal URL " + jdbcUrl + ": use jdbc:h2:... or jdbc:postgresql://...");
  }

  /** Creates the journal tables when missing. Every SQL error is raised, none is swallowed. */
  public void createSchema() {
    String resource = kind() == Kind.H2 ? "/pgwarden/schema/h2.sql" : "/pgwarden/schema/postgres.sql";
    try (Connection c = connect(); Statement st = c.createStatement()) {
      for (String sql : statements(resource)) {
        try {
          st.execute(sql);
        } catch (SQLException e) {
          throw new IllegalStateException("journal schema statement failed on " + jdbcUrl + ": " + e.getMessage()
              + "\n" + sql, e);
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot open the journal at " + jdbcUrl + ": " + e.getMessage(), e);
    }
  }

  public Connection connect() throws SQLException {
    return DriverManager.getConnection(jdbcUrl, user, password);
  }

  static List<String> statements(String resource) {
    try (InputStream in = JournalStore.class.getResourceAsStream(resource)) {
      if (in == null) throw new IllegalStateException("missing resource " + resource);
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      List<String> out = new ArrayList<>();
      StringBuilder cur = new StringBuilder();
      for (String line : text.split("\n")) {
        if (line.trim().equals(";")) {
          if (!cur.toString().isBlank()) out.add(cur.toString().trim());
          cur.setLength(0);
        } else if (!line.trim().startsWith("--")) {
          cur.append(line).append('\n');
        }
      }
      if (!cur.toString().isBlank()) out.add(cur.toString().trim());
      return out;
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + resource, e);
    }
  }

  /** Pekko settings for this store; layer them over the application's own configuration. */
  public Config pekkoConfig() {
    Map<String, Object> m = new TreeMap<>();
    String db = "pekko-persistence-jdbc.shared-databases.slick.";
    m.put(db + "profile", kind() == Kind.H2 ? "slick.jdbc.H2Profile$" : "slick.jdbc.PostgresProfile$");
    m.put(db + "db.url", jdbcUrl);
    m.put(db + "db.user", user);
    m.put(db + "db.password", password);
    m.put(db + "db.driver", kind() == Kind.H2 ? "org.h2.Driver" : "org.postgresql.Driver");
    return ConfigFactory.parseMap(m).withFallback(ConfigFactory.parseResources("pgwarden-journal.conf"));
  }

  @Override
  public String toString() {
    return jdbcUrl.replaceAll("password=[^&;]*", "password=********");
  }
}
