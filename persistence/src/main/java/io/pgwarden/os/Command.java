package io.pgwarden.os;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One external command: an argv (never a shell string), a clean environment, a timeout after which
 * the whole process tree is killed, and its output captured with secrets masked. When pgwarden runs as
 * root and {@code runAs} names another user, the command runs as that user through setpriv.
 */
public record Command(
    String name,
    List<String> argv,
    Path workdir,
    Map<String, String> env,
    Duration timeout,
    String runAs,
    List<String> secrets,
    byte[] stdin) {

  /** Lines of output kept for logs and errors. */
  public static final int TAIL_LINES = 20;

  public Command {
    argv = List.copyOf(argv);
    env = env == null ? Map.of() : Map.copyOf(env);
    secrets = secrets == null ? List.of() : List.copyOf(secrets);
    if (argv.isEmpty()) throw new IllegalArgumentException("empty argv");
    if (timeout == null) timeout = Duration.ofSeconds(60);
  }

  public static Command of(String name, List<String> argv, Duration timeout) {
    return new Command(name, argv, null, Map.of(), timeout, null, List.of(), null);
  }

  public Command withEnv(Map<String, String> extra) {
    Map<String, String> m = new TreeMap<>(env);
    m.putAll(extra);
    return new Command(name, argv, workdir, m, timeout, runAs, secrets, stdin);
  }

  public Command runningAs(String user) {
    return new Command(name, argv, workdir, env, timeout, user, secrets, stdin);
  }

  public Command withTimeout(Duration t) {
    return new Command(name, argv, workdir, env, t, runAs, secrets, stdin);
  }

  public Command withSecrets(List<String> s) {
    return new Command(name, argv, workdir, env, timeout, runAs, s, stdin);
  }

  public Command withStdin(byte[] input) {
    return new Command(name, argv, workdir, env, timeout, runAs, secrets, input);
  }

  public Command inDirectory(Path dir) {
    return new Command(name, argv, dir, env, timeout, runAs, secrets, stdin);
  }

  /** The outcome of a run. {@code tail} holds the last lines of combined output, secrets masked. */
  public record Result(String command, int exitCode, boolean timedOut, long elapsedMs, List<String> tail) {
    public boolean ok() {
      return exitCode == 0 && !timedOut;
    }

    public String output() {
      return String.join("\n", tail);
    }

    /** A one-paragraph description for logs: the command, its exit code, its last lines. */
    public String describe() {
      String status = timedOut ? "timed out after " + elapsedMs + " ms" : "exited with code " + exitCode;
      return command + " " + status + (tail.isEmpty() ? "" : "; last output:\n  " + String.join("\n  ", tail));
    }
  }

  /** Runs the command to completion or to its timeout. Never throws for a failing command. */
  public Result run() {
    return run(line -> {});
  }

  /** As {@link #run()}, handing every output line (masked) to {@code onLine} as it arrives. */
  public Result run(Consumer<String> onLine) {
    List<String> full = new ArrayList<>();
    if (runAs != null && !runAs.isBlank() && OsUser.isRoot() && !runAs.equals("root")) {
      full.addAll(List.of("setpriv", "--reuid=" + runAs, "--regid=" + OsUser.primaryGroup(runAs), "--init-groups", "--"));
    }
    full.addAll(argv);
    ProcessBuilder pb = new ProcessBuilder(full).redirectErrorStream(true);
    if (workdir != null) pb.directory(workdir.toFile());
    Map<String, String> e = pb.environment();
    e.clear();
    e.put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    e.put("LANG", "C.UTF-8");
    e.put("LC_ALL", "C.UTF-8");
    e.putAll(env);
    String shown = mask(String.join(" ", argv));
    long start = System.nanoTime();
    Process p;
    try {
      p = pb.start();
    } catch (IOException ex) {
      return new Result(shown, 127, false, 0, List.of(mask(ex.getMessage())));
    }
    Deque<String> tail = new ArrayDeque<>();
    Thread reader = new Thread(() -> pump(p.getInputStream(), tail, onLine), "cmd-out-" + name);
    reader.setDaemon(true);
    reader.start();
    try (OutputStream in = p.getOutputStream()) {
      if (stdin != null) in.write(stdin);
    } catch (IOException ignored) {
      // the process may exit without reading its input; its exit code tells what happened
    }
    boolean finished;
    try {
      finished = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
      finished = false;
    }
    if (!finished) {
      killTree(p.toHandle());
      try {
        p.waitFor(5, TimeUnit.SECONDS);
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
      }
    }
    try {
      reader.join(2_000);
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
    }
    long elapsed = (System.nanoTime() - start) / 1_000_000;
    List<String> lines;
    synchronized (tail) {
      lines = List.copyOf(tail);
    }
    return new Result(shown, finished ? p.exitValue() : -1, !finished, elapsed, lines);
  }

  /** Kills a process and all its descendants (children first would let the parent respawn them). */
  public static void killTree(ProcessHandle h) {
    h.descendants().forEach(ProcessHandle::destroyForcibly);
    h.destroyForcibly();
  }

  private void pump(InputStream out, Deque<String> tail, Consumer<String> onLine) {
    try (var r = new java.io.BufferedReader(new java.io.InputStreamReader(out, StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        String m = mask(line);
        synchronized (tail) {
          tail.addLast(m);
          while (tail.size() > TAIL_LINES) tail.removeFirst();
        }
        onLine.accept(m);
      }
    } catch (IOException ignored) {
      // the stream closes when the process is killed
    }
  }

  String mask(String s) {
    if (s == null) return "";
    String r = s;
    for (String secret : secrets) {
      if (secret != null && !secret.isEmpty()) r = r.replace(secret, "********");
    }
    return r.replaceAll("(password=)[^ '\"]+", "$1********");
  }
}
