package io.pgwarden.lab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A private network of hosts on this machine, for partitions that are real: every host but the tester
 * lives in its own network namespace, with one address on its loopback device ({@code 10.213.K.(10+i)/32};
 * K random per network, so that concurrent runs do not meet). Every pair of hosts — the tester (this
 * JVM, in the root namespace, address {@code 10.213.K.1}) included — is joined by its own veth pair with a
 * /32 route over it, so one link can be cut without touching the others ({@code ip link set ... down}):
 * no packet filter is needed, and no traffic leaves the machine. {@link #close()} deletes the
 * namespaces (and with them every veth) and the tester's address.
 *
 * <p>Needs root and iproute2.
 */
public final class Net implements AutoCloseable {
  public static final String TESTER = "tester";

  private final int k;
  private final List<String> hosts = new ArrayList<>();
  private final Map<String, String> links = new TreeMap<>();
  private boolean closed;

  /** Creates the namespaces and the full mesh for {@code names} (besides the tester). */
  public Net(List<String> names) {
    this.k = ThreadLocalRandom.current().nextInt(20, 250);
    hosts.add(TESTER);
    hosts.addAll(names);
    try {
      sh("ip", "addr", "add", addr(TESTER) + "/32", "dev", "lo");
      for (int i = 1; i < hosts.size(); i++) {
        String ns = ns(hosts.get(i));
        sh("ip", "netns", "add", ns);
        sh("ip", "-n", ns, "link", "set", "lo", "up");
        sh("ip", "-n", ns, "addr", "add", addr(hosts.get(i)) + "/32", "dev", "lo");
      }
      for (int i = 0; i < hosts.size(); i++) {
        for (int j = i + 1; j < hosts.size(); j++) link(i, j);
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  private void link(int i, int j) {
    String a = veth(i, j);
    String b = veth(j, i);
    sh("ip", "link", "add", a, "type", "veth", "peer", "name", b);
    move(i, a);
    move(j, b);
    route(i, a, j);
    route(j, b, i);
    links.put(hosts.get(i) + "|" + hosts.get(j), a + "|" + b);
  }

  private void move(int host, String dev) {
    if (host != 0) sh("ip", "link", "set", dev, "netns", ns(hosts.get(host)));
    sh(in(host, "link", "set", dev, "up"));
  }

  private void route(int from, String dev, int to) {
    sh(in(from, "route", "add", addr(hosts.get(to)) + "/32", "dev", dev, "src", addr(hosts.get(from))));
  }

  private String[] in(int host, String... args) {
    List<String> a = new ArrayList<>(List.of("ip"));
    if (host != 0) {
      a.add("-n");
      a.add(ns(hosts.get(host)));
    }
    a.addAll(List.of(args));
    return a.toArray(String[]::new);
  }

  private String veth(int i, int j) {
    return "pw" + k + "x" + i + "y" + j;
  }

  public String ns(String host) {
    return "pgw" + k + "-" + host;
  }

  /** The address of {@code host}. */
  public String addr(String host) {
    int i = hosts.indexOf(host);
    if (i < 0) throw new IllegalArgumentException("no host " + host);
    return "10.213." + k + "." + (i == 0 ? 1 : 10 + i);
  }

  /** The command prefix that runs a program inside {@code host}'s namespace. */
  public List<String> exec(String host) {
    return List.of("ip", "netns", "exec", ns(host));
  }

  /** Cuts the link between {@code a} and {@code b} (both directions, both ends down). */
  public void cut(String a, String b) {
    set(a, b, "down");
  }

  public void heal(String a, String b) {
    set(a, b, "up");
  }

  private void set(String a, String b, String state) {
    int i = hosts.indexOf(a);
    int j = hosts.indexOf(b);
    if (i < 0 || j < 0 || i == j) throw new IllegalArgumentException(a + " / " + b);
    sh(in(i, "link", "set", veth(i, j), state));
    sh(in(j, "link", "set", veth(j, i), state));
    if (state.equals("up")) {
      // a link brought down loses its routes: put them back
      shQuiet(in(i, "route", "replace", addr(hosts.get(j)) + "/32", "dev", veth(i, j), "src", addr(hosts.get(i))));
      shQuiet(in(j, "route", "replace", addr(hosts.get(i)) + "/32", "dev", veth(j, i), "src", addr(hosts.get(j))));
    }
  }

  @Override
  public synchronized void close() {
    if (closed) return;
    closed = true;
    for (int i = 1; i < hosts.size(); i++) {
      // the root-namespace ends of the tester's links go with their peers
      shQuiet("ip", "netns", "del", ns(hosts.get(i)));
    }
    shQuiet("ip", "addr", "del", addr(TESTER) + "/32", "dev", "lo");
  }

  /** True when this machine can make namespaces (root, iproute2). */
  public static boolean available() {
    if (!io.pgwarden.os.OsUser.isRoot()) return false;
    try {
      Process p = new ProcessBuilder("ip", "netns", "list").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static void sh(String... argv) {
    String out = run(argv);
    if (out != null) throw new IllegalStateException(String.join(" ", argv) + ": " + out);
  }

  private static void shQuiet(String... argv) {
    run(argv);
  }

  /** Runs {@code argv}; null when it succeeded, else its output. */
  private static String run(String... argv) {
    try {
      Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes()).strip();
      return p.waitFor() == 0 ? null : "exit " + p.exitValue() + ": " + out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
