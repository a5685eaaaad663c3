package io.pgwarden.keeper.pg;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;

/**
 * JDBC connections with timeouts: to the local server as the superuser, and to a peer as the replication
 * role. pgjdbc counts its timeouts in whole seconds; a hung server fails the connect or the query after
 * at most that long.
 */
final class PgSql {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(PgSql.class);
  static final String APP = "pgwarden_keeper";

  private final LocalPg pg;

  PgSql(LocalPg pg) {
    this.pg = pg;
  }

  /** The keeper's connection to its own PostgreSQL (database postgres). */
  Connection local(String step, Duration timeout) {
    return open(step, pg.connectHost(), pg.port(), "postgres", pg.superuser(), pg.superuserPassword(), timeout);
  }

  /** A connection to a peer as the replication role (database postgres, as pg_rewind uses). */
  Connection peer(String step, String host, int port, Duration timeout) {
    return open(step, host, port, "postgres", pg.replicationUser(), pg.replicationPassword(), timeout);
  }

  Connection open(String step, String host, int port, String db, String user, String password, Duration timeout) {
    int secs = (int) Math.max(1, (timeout.toMillis() + 999) / 1000);
    Properties p = new Properties();
    p.setProperty("user", user);
    if (password != null) p.setProperty("password", password);
    p.setProperty("connectTimeout", Integer.toString(secs));
    p.setProperty("loginTimeout", Integer.toString(secs));
    p.setProperty("socketTimeout", Integer.toString(secs));
    p.setProperty("tcpKeepAlive", "true");
    p.setProperty("ApplicationName", APP);
    p.setProperty("assumeMinServerVersion", "15");
    String h = host.contains(":") ? "[" + host + "]" : host;
    try {
      return DriverManager.getConnection("jdbc:postgresql://" + h + ":" + port + "/" + db, p);
    } catch (SQLException e) {
      throw failed(step, e);
    }
  }

  PgOpException.SqlFailed failed(String step, SQLException e) {
    if ("57P03".equals(e.getSQLState())) {
      // starting up or shutting down: expected around every start and stop, the caller decides
      log.debug("{}: {} failed: [{}] {}", pg.label(), step, e.getSQLState(), e.getMessage());
    } else {
      log.warn("{}: {} failed: [{}] {}", pg.label(), step, e.getSQLState(), e.getMessage());
    }
    return new PgOpException.SqlFailed(pg.label(), step, e.getSQLState(), e.getMessage(), e);
  }

  static String quoteIdent(String name) {
    return "\"" + name.replace("\"", "\"\"") + "\"";
  }

  static String quoteLiteral(String value) {
    return "'" + value.replace("'", "''") + "'";
  }
}
