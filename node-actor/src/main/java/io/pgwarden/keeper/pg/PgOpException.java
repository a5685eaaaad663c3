package io.pgwarden.keeper.pg;

import io.pgwarden.os.Command;
import java.util.List;

/**
 * A PostgreSQL operation that did not succeed. Every failure names the node and the step; the subtypes
 * say what kind of failure it was so that the executor can decide whether a retry makes sense.
 */
public abstract sealed class PgOpException extends RuntimeException
    permits PgOpException.CommandFailed, PgOpException.SqlFailed, PgOpException.Refused, PgOpException.TimedOut {

  private final String node;
  private final String step;

  PgOpException(String node, String step, String message, Throwable cause) {
    super(node + ": " + step + ": " + message, cause);
    this.node = node;
    this.step = step;
  }

  public String node() {
    return node;
  }

  public String step() {
    return step;
  }

  /** An external command exited non-zero or was killed at its timeout. */
  public static final class CommandFailed extends PgOpException {
    private final transient Command.Result result;

    public CommandFailed(String node, String step, Command.Result result) {
      super(node, step, result.describe(), null);
      this.result = result;
    }

    public String command() {
      return result.command();
    }

    public int exitCode() {
      return result.exitCode();
    }

    public boolean timedOut() {
      return result.timedOut();
    }

    /** The last lines of the command's output, secrets masked. */
    public List<String> lastLines() {
      return result.tail();
    }

    public Command.Result result() {
      return result;
    }
  }

  /** A SQL statement failed (or its connection did). */
  public static final class SqlFailed extends PgOpException {
    private final String sqlState;

    public SqlFailed(String node, String step, String sqlState, String message, Throwable cause) {
      super(node, step, (sqlState == null ? "" : "[" + sqlState + "] ") + message, cause);
      this.sqlState = sqlState;
    }

    /** PostgreSQL's SQLSTATE, or the driver's (08xxx for connection failures); may be null. */
    public String sqlState() {
      return sqlState;
    }
  }

  /** The operation refused to start: bad input or an unmet precondition. Nothing was changed. */
  public static final class Refused extends PgOpException {
    /** Why, for callers that react differently (e.g. clone instead of rewind on a different system). */
    public enum Reason {
      BAD_INPUT,
      NOT_A_CLUSTER,
      NOT_EMPTY,
      ALREADY_A_CLUSTER,
      NOT_RUNNING,
      DIFFERENT_SYSTEM,
      SOURCE_IN_RECOVERY,
      SOURCE_BEHIND,
      SOURCE_NOT_CHECKPOINTED,
      FOREIGN_POSTMASTER
    }

    private final Reason reason;

    public Refused(String node, String step, Reason reason, String message) {
      super(node, step, message, null);
      this.reason = reason;
    }

    public Reason reason() {
      return reason;
    }
  }

  /** A condition awaited with a deadline (promotion, a stopped postmaster, a setting in effect) did not come. */
  public static final class TimedOut extends PgOpException {
    private final long elapsedMs;

    public TimedOut(String node, String step, long elapsedMs, String message) {
      super(node, step, message + " (gave up after " + elapsedMs + " ms)", null);
      this.elapsedMs = elapsedMs;
    }

    public long elapsedMs() {
      return elapsedMs;
    }
  }
}
