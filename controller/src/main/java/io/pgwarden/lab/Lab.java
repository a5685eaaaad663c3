package io.pgwarden.lab;

import io.pgwarden.api.ApiClient;
import io.pgwarden.api.Dto;
import io.pgwarden.cli.Pgwarden;
import io.pgwarden.controller.app.ControllerConfig;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.Timing;
import io.pgwarden.os.Dirs;
import io.pgwarden.os.OsUser;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.BooleanSupplier;

/**
 * A whole formation on this machine, every part a real process: the controller ({@code pgwarden run} on
 * an H2 journal) and one keeper per node ({@code pgwarden run --dir}, which runs a real PostgreSQL), each
 * a child process of this JVM started from the same class path, with its output in {@code <name>.log}
 * under the root directory. Nodes are created with the command line ({@code pgwarden create postgres}),
 * run in this JVM. Faults are real: SIGKILL, SIGSTOP and SIGCONT of processes by their PIDs.
 *
 * <p>Used by {@code pgwarden demo}, the failover benchmark and the end-to-end tests.
 */
public final class Lab implements AutoCloseable {
  public static final String PG_USER = OsUser.pgUserFor(System.getenv("PGWARDEN_PG_USER"));

  /**
   * @param root where everything lives (created; owned by the PostgreSQL user)
   * @param deleteRoot delete it at close
   * @param timing the controller's timing (keepers take it at registration); null for the defaults
   * @param durable fsync on (off only for tests)
   * @param formation the formation's name
   * @param dbname its application database
   * @param pgSettings extra PostgreSQL settings for every node
   * @param keeperJvm extra JVM options for keeper processes
   * @param trace the controller traces every report and reply to {@code controller-trace.jsonl}
   * @param netnsNodes 0: everything on 127.0.0.1; n: the controller and nodes node1..node{n} each in its
   *     own network namespace of a {@link Net}, so that links between them can be cut
   */
  public record Options(Path root, boolean deleteRoot, Timing timing, boolean durable, String formation, String dbname,
      Map<String, String> pgSettings, List<String> keeperJvm, boolean trace, int netnsNodes) {
    public static Options defaults(Path root, boolean deleteRoot) {
      return new Options(root, deleteRoot, null, true, "demo", "app",
          Map.of("shared_buffers", "32MB", "max_connections", "50"), List.of(), false, 0);
    }

    public Options withTiming(Timing t) {
      return new Options(root, deleteRoot, t, durable, formation, dbname, pgSettings, keeperJvm, trace, netnsNodes);
    }

    public Options withDurable(boolean d) {
      return new Options(root, deleteRoot, timing, d, formation, dbname, pgSettings, keeperJvm, trace, netnsNodes);
    }

    public Options withTrace(boolean t) {
      return new Options(root, deleteRoot, timing, durable, formation, dbname, pgSettings, keeperJvm, t, netnsNodes);
    }

    public Options withNetns(int nodes) {
      return new Options(root, deleteRoot, timing, durable, formation, dbname, pgSettings, keeperJvm, trace, nodes);
    }
  }

  /** A child process of this lab. */
  public static final class Proc {
    final String name;
    final Process process;
    final long startedNanos;

    Proc(String name, Process process, long startedNanos) {
      this.name = name;
      this.process = process;
      this.startedNanos = startedNanos;
    }

    public long pid() {
      return process.pid();
    }

    public boolean alive() {
      return process.isAlive();
    }
  }

  /** One PostgreSQL node and its keeper. */
  public final class Node {
    public final String name;
    public final Path base;
    public final Path pgdata;
    public final Path keeperDir;
    public final int pgport;
    public final int keeperPort;
    int id;
    Proc keeper;

    Node(String name) {
      this.name = name;
      this.base = root.resolve(name);
      this.pgdata = base.resolve("data");
      this.keeperDir = base.resolve("keeper");
      this.pgport = freePort();
      this.keeperPort = freePort();
    }

    public int id() {
      return id;
    }

    public Lab lab() {
      return Lab.this;
    }

    public Proc keeper() {
      return keeper;
    }

    /** Starts this node's keeper as a child process ({@code pgwarden run --dir}). */
    public Proc startKeeper() {
      keeper = spawn(name, keeperJvmOptions(), "run", "--dir", keeperDir.toString());
      return keeper;
    }

    /** Stops the keeper gracefully (SIGTERM: it stops its PostgreSQL) and waits for it. */
    public void stopKeeper(Duration max) {
      if (keeper != null) stopProc(keeper, max);
    }

    /** The postmaster's PID from postmaster.pid, or -1 when there is none. */
    public long postmasterPid() {
      try {
        List<String> lines = Files.readAllLines(pgdata.resolve("postmaster.pid"));
        long pid = Long.parseLong(lines.get(0).trim());
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) ? pid : -1;
      } catch (IOException | RuntimeException e) {
        return -1;
      }
    }

    /** The postmaster and every process under it (its backends, walsenders, ...). */
    public List<Long> postgresPids() {
      long pm = postmasterPid();
      List<Long> pids = new ArrayList<>();
      if (pm > 0) {
        pids.add(pm);
        ProcessHandle.of(pm).ifPresent(h -> h.descendants().forEach(d -> pids.add(d.pid())));
      }
      return pids;
    }

    /** Everything of this "host": the keeper and its children, the postmaster and its children. */
    public List<Long> hostPids() {
      List<Long> pids = new ArrayList<>();
      if (keeper != null && keeper.alive()) {
        pids.add(keeper.pid());
        keeper.process.descendants().forEach(d -> pids.add(d.pid()));
      }
      for (long p : postgresPids()) {
        if (!pids.contains(p)) pids.add(p);
      }
      return pids;
    }

    /** A JDBC connection straight to this node's PostgreSQL. */
    public Connection connect() throws SQLException {
      Properties p = new Properties();
      p.setProperty("user", "postgres");
      p.setProperty("connectTimeout", "2");
      p.setProperty("socketTimeout", "10");
      return DriverManager.getConnection("jdbc:postgresql://" + host() + ":" + pgport + "/" + dbname, p);
    }

    /** The address its PostgreSQL and keeper listen on. */
    public String host() {
      return hostOf(name);
    }

    /**
     * Lets the tester (this JVM) connect as postgres from its own address: one line appended to
     * pg_hba.conf, outside pgwarden's block, and a reload (SIGHUP). Clones copy it.
     */
    public void allowTester() {
      if (net == null) return;
      try {
        Files.writeString(pgdata.resolve("pg_hba.conf"), "host all postgres " + net.addr(Net.TESTER)
            + "/32 trust  # pgwarden lab: the tester\n", java.nio.file.StandardOpenOption.APPEND);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      signal("HUP", List.of(postmasterPid()));
    }

    public Dto.NodeView view() {
      return state().nodes().stream().filter(v -> v.nodeId() == id).findFirst().orElseThrow();
    }

    /** Assigned and reported {@code s}. */
    public boolean reached(NodeState s) {
      Dto.NodeView v = view();
      return v.assignedState() == s && v.reportedState() == s;
    }

    public String address() {
      return host() + ":" + pgport;
    }

    @Override
    public String toString() {
      return name + " (node " + id + ", port " + pgport + ")";
    }
  }

  public final Path root;
  public final Options options;
  public final String formation;
  public final String dbname;
  public final Path controllerDir;
  public final int controllerPort;
  private final String javaBin;
  private final String classPath;
  private String token;
  private ApiClient api;
  private Proc controller;
  private final Net net;
  private final Map<String, Node> nodes = new LinkedHashMap<>();
  private final List<Proc> procs = new ArrayList<>();
  private boolean closed;
  private volatile boolean keep;
  private Thread hook;

  private Lab(Options o) {
    this.options = o;
    this.root = o.root().toAbsolutePath().normalize();
    this.formation = o.formation();
    this.dbname = o.dbname();
    this.controllerDir = root.resolve("controller");
    this.controllerPort = freePort();
    this.javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    this.classPath = System.getProperty("java.class.path");
    List<String> hosts = new ArrayList<>(List.of("controller"));
    for (int i = 1; i <= o.netnsNodes(); i++) hosts.add("node" + i);
    this.net = o.netnsNodes() > 0 ? new Net(hosts) : null;
  }

  /** The address {@code host} ("controller", a node's name) listens on. */
  public String hostOf(String host) {
    return net == null ? "127.0.0.1" : net.addr(host);
  }

  /** The private network of this lab, or null when everything is on loopback. */
  public Net net() {
    return net;
  }

  /** Creates the controller and its formation, and starts the controller. */
  public static Lab start(Options o) {
    Lab lab = new Lab(o);
    // this JVM ending (Ctrl-C, SIGTERM, a test runner stopped) must not leave keepers and PostgreSQL behind
    lab.hook = new Thread(lab::close, "pgwarden-lab-stop");
    Runtime.getRuntime().addShutdownHook(lab.hook);
    try {
      lab.init();
    } catch (RuntimeException e) {
      lab.close();
      throw e;
    }
    return lab;
  }

  private void init() {
    try {
      Files.createDirectories(root);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    OsUser.chown(root, PG_USER);
    cli("create", "monitor", "--dir", controllerDir.toString(), "--listen", hostOf("controller") + ":" + controllerPort);
    if (options.timing() != null) {
      ControllerConfig c = ControllerConfig.load(controllerDir);
      new ControllerConfig(c.role(), c.listenHost(), c.listenPort(), c.journalUrl(), c.journalUser(),
          c.journalPasswordFile(), c.tlsKeystore(), c.tlsPasswordFile(), c.openMetrics(), options.timing())
          .save(controllerDir);
    }
    try {
      token = Files.readString(controllerDir.resolve(ControllerConfig.OPERATOR_TOKEN_FILE)).strip();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    api = new ApiClient(controllerUrl(), token, Duration.ofSeconds(10), null);
    startController();
    api.createFormation(new Dto.CreateFormation(formation, dbname, 0, null, "pgwarden lab"));
  }

  /** Keep the root directory at close (a failed run's logs). */
  public void keep() {
    keep = true;
  }

  public ApiClient api() {
    return api;
  }

  public String token() {
    return token;
  }

  public URI controllerUrl() {
    return URI.create("http://" + hostOf("controller") + ":" + controllerPort);
  }

  public Proc controller() {
    return controller;
  }

  /** Starts the controller process and waits until it is ready. */
  public Proc startController() {
    controller = spawn("controller", List.of("-Xmx512m"), "run", "--dir", controllerDir.toString());
    await("the controller is ready", Duration.ofSeconds(60), () -> api.ready());
    return controller;
  }

  public Node node(String name) {
    Node n = nodes.get(name);
    if (n == null) throw new IllegalArgumentException("no node " + name);
    return n;
  }

  public List<Node> nodes() {
    return List.copyOf(nodes.values());
  }

  /** Registers a node with {@code pgwarden create postgres} (in this JVM) and starts its keeper process. */
  public Node addNode(String name, Integer candidatePriority) {
    Node n = new Node(name);
    try {
      Files.createDirectories(n.base);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    OsUser.chown(n.base, PG_USER);
    List<String> a = new ArrayList<>(List.of("create", "postgres", "--monitor", controllerUrl().toString(), "--token",
        token, "--formation", formation, "--name", name, "--pgdata", n.pgdata.toString(), "--pgport",
        Integer.toString(n.pgport), "--hostname", n.host(), "--keeper-listen", n.host() + ":" + n.keeperPort,
        "--dir", n.keeperDir.toString(), "--pg-user", PG_USER));
    for (var e : options.pgSettings().entrySet()) {
      a.add("--pg-setting");
      a.add(e.getKey() + "=" + e.getValue());
    }
    if (candidatePriority != null) {
      a.add("--candidate-priority");
      a.add(candidatePriority.toString());
    }
    if (!options.durable()) a.add("--no-fsync");
    String out = cli(a.toArray(String[]::new));
    int i = out.indexOf("node ");
    n.id = Integer.parseInt(out.substring(i + 5, out.indexOf(' ', i + 5)));
    nodes.put(name, n);
    n.startKeeper();
    return n;
  }

  /** Runs {@code pgwarden args...} in this JVM; returns its output, or throws with its errors. */
  public String cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Pgwarden.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    if (code != 0) {
      throw new IllegalStateException("pgwarden " + args[0] + " " + (args.length > 1 ? args[1] : "") + " failed ("
          + code + "): " + err.toString().strip());
    }
    return out.toString();
  }

  public Dto.FormationState state() {
    return api.state(formation);
  }

  /** The node the controller has opened writes on, or null. */
  public Node writer() {
    Dto.FormationState s = state();
    if (!s.writesOpen() || s.primaryNodeId() == null) return null;
    for (Node n : nodes.values()) {
      if (n.id == s.primaryNodeId()) return n;
    }
    return null;
  }

  /**
   * Waits until a node other than {@code old} takes writes, and returns it. One reading of the state per
   * try: two readings could see {@code old} still writable, then no writer at all, and pass.
   */
  public Node awaitNewWriter(Node old, Duration max) {
    Node[] found = new Node[1];
    await("a new primary takes writes", max, () -> {
      Node w = writer();
      found[0] = w;
      return w != null && w != old;
    });
    return found[0];
  }

  /** Waits until one node is primary (reported and assigned) and every other one secondary. */
  public Node awaitSettled(Duration max) {
    Node[] primary = new Node[1];
    await("a primary and " + (nodes.size() - 1) + " secondary(s)", max, () -> {
      Dto.FormationState s = state();
      Node p = null;
      int secondaries = 0;
      for (Dto.NodeView v : s.nodes()) {
        boolean prim = v.assignedState() == v.reportedState() && (v.reportedState() == NodeState.PRIMARY
            || v.reportedState() == NodeState.SINGLE && nodes.size() == 1);
        if (prim) p = byId(v.nodeId());
        if (v.assignedState() == NodeState.SECONDARY && v.reportedState() == NodeState.SECONDARY) secondaries++;
      }
      primary[0] = p;
      return p != null && secondaries == nodes.size() - 1 && s.writesOpen();
    });
    return primary[0];
  }

  public Node byId(int id) {
    for (Node n : nodes.values()) {
      if (n.id == id) return n;
    }
    return null;
  }

  /** The libpq multi-host URI the controller publishes. */
  public String uri() {
    return api.uris(formation).postgres();
  }

  /**
   * A JDBC URL for every node with the given driver options; the current primary first, as the
   * controller publishes its URIs.
   */
  public String jdbcUrl(String params) {
    StringBuilder sb = new StringBuilder("jdbc:postgresql://");
    boolean first = true;
    List<Node> ordered = new ArrayList<>(nodes.values());
    Node w = writer();
    if (w != null) {
      ordered.remove(w);
      ordered.add(0, w);
    }
    for (Node n : ordered) {
      if (!first) sb.append(',');
      sb.append(n.host()).append(':').append(n.pgport);
      first = false;
    }
    return sb.append('/').append(dbname).append('?').append(params).toString();
  }

  /**
   * Writes the run's trace to {@code out}: every journal event of the formation ({@code kind: event},
   * with its type; the decisions are the {@code decided} ones) and every report and reply the controller
   * traced, merged in the order of their wall-clock time ({@code at}). See docs/simulation-traces.md.
   */
  /**
   * The controller's decision trace of the formation (every input to its decision core and what it
   * journaled, docs/simulation.md "Decision traces"), written when the lab traces; null otherwise.
   */
  public Path decisionTrace() {
    Path p = root.resolve("decision-traces").resolve(formation + ".decisions.jsonl");
    return Files.exists(p) ? p : null;
  }

  public void writeTrace(Path out) throws IOException {
    List<com.fasterxml.jackson.databind.node.ObjectNode> lines = new ArrayList<>();
    Long before = null;
    while (true) {
      Dto.EventPage p = api.events(formation, before, null, 1000);
      for (Dto.EventView e : p.events()) {
        var o = io.pgwarden.persistence.Json.MAPPER.createObjectNode();
        o.put("kind", "event");
        o.put("at", e.at());
        o.put("ordering", e.ordering());
        o.put("persistence_id", e.persistenceId());
        o.put("sequence_nr", e.sequenceNr());
        o.put("type", e.type());
        o.set("event", e.event());
        lines.add(o);
      }
      if (p.nextBefore() == null || p.events().isEmpty()) break;
      before = p.nextBefore();
    }
    Path traced = root.resolve("controller-trace.jsonl");
    if (Files.exists(traced)) {
      for (String l : Files.readAllLines(traced)) {
        if (l.isBlank()) continue;
        lines.add((com.fasterxml.jackson.databind.node.ObjectNode) io.pgwarden.persistence.Json.MAPPER.readTree(l));
      }
    }
    lines.sort(java.util.Comparator.comparingLong((com.fasterxml.jackson.databind.node.ObjectNode o) ->
        o.path("at").asLong()).thenComparingLong(o -> o.path("ordering").asLong(0)));
    Files.createDirectories(out.toAbsolutePath().getParent());
    try (var w = Files.newBufferedWriter(out)) {
      for (var o : lines) {
        w.write(io.pgwarden.persistence.Json.MAPPER.writeValueAsString(o));
        w.newLine();
      }
    }
  }

  // ---------------------------------------------------------------- processes and signals

  private List<String> keeperJvmOptions() {
    List<String> o = new ArrayList<>(List.of("-Xmx256m"));
    o.addAll(options.keeperJvm());
    return o;
  }

  private Proc spawn(String name, List<String> jvm, String... args) {
    List<String> cmd = new ArrayList<>();
    if (net != null) cmd.addAll(net.exec(name));
    cmd.add(javaBin);
    cmd.add("-Djava.util.concurrent.ForkJoinPool.common.parallelism=4");
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-XX:TieredStopAtLevel=1");
    // the class-data archive bin/pgwarden makes beside the jar (CdsTrainingCommand): about half the
    // JVM's start; ignored without a word when missing or made for another jar
    if (classPath.endsWith(".jar") && !classPath.contains(java.io.File.pathSeparator)) {
      Path jsa = Path.of(classPath.substring(0, classPath.length() - 4) + ".jsa");
      if (Files.isRegularFile(jsa)) {
        cmd.add("-XX:SharedArchiveFile=" + jsa);
        cmd.add("-Xlog:cds=off");
        cmd.add("-Xlog:cds+dynamic=off");
      }
    }
    cmd.addAll(jvm);
    cmd.add("-cp");
    cmd.add(classPath);
    cmd.add(Pgwarden.class.getName());
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(root.resolve(name + ".log").toFile()));
    pb.environment().remove("JAVA_TOOL_OPTIONS");
    if (name.equals("controller") && options.trace()) {
      pb.environment().put("PGWARDEN_TRACE_FILE", root.resolve("controller-trace.jsonl").toString());
      pb.environment().put("PGWARDEN_DECISION_TRACE_DIR", root.resolve("decision-traces").toString());
    }
    try {
      long t0 = System.nanoTime();
      Proc p = new Proc(name, pb.start(), t0);
      synchronized (procs) {
        procs.add(p);
      }
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name + ": " + e.getMessage(), e);
    }
  }

  /** SIGTERM, then SIGKILL after {@code max}. */
  public static void stopProc(Proc p, Duration max) {
    if (!p.alive()) return;
    p.process.destroy();
    try {
      if (!p.process.waitFor(max.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
        p.process.destroyForcibly();
        p.process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Sends {@code sig} (KILL, STOP, CONT) to every PID in one kill(1) call. */
  public static void signal(String sig, List<Long> pids) {
    if (pids.isEmpty()) return;
    List<String> argv = new ArrayList<>(List.of("kill", "-" + sig));
    pids.forEach(p -> argv.add(Long.toString(p)));
    try {
      Process k = new ProcessBuilder(argv).redirectErrorStream(true).start();
      k.getInputStream().readAllBytes();
      k.waitFor();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Kills this node's whole host: keeper, postmaster and backends, SIGKILL by PID; returns the PIDs. */
  public List<Long> killHost(Node n) {
    List<Long> pids = n.hostPids();
    signal("KILL", pids);
    if (n.keeper != null) {
      try {
        n.keeper.process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return pids;
  }

  // ---------------------------------------------------------------- SQL helpers

  public static String one(Connection c, String sql) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  /** application_names streaming from {@code primary} (pg_stat_replication, state 'streaming'). */
  public static List<String> streamingFrom(Node primary) {
    List<String> names = new ArrayList<>();
    try (Connection c = primary.connect(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT application_name FROM pg_stat_replication WHERE state = 'streaming'")) {
      while (rs.next()) names.add(rs.getString(1));
    } catch (SQLException e) {
      return List.of();
    }
    return names;
  }

  public static String applicationName(Node n) {
    return "pgwarden_" + n.id;
  }

  // ---------------------------------------------------------------- waiting

  public static void await(String what, Duration max, BooleanSupplier cond) {
    long deadline = System.nanoTime() + max.toNanos();
    while (true) {
      boolean ok;
      try {
        ok = cond.getAsBoolean();
      } catch (RuntimeException e) {
        ok = false;
      }
      if (ok) return;
      if (System.nanoTime() > deadline) throw new IllegalStateException("not within " + max.toSeconds() + " s: " + what);
      sleep(20);
    }
  }

  public static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Stops everything this lab started: keepers first (gracefully: each stops its PostgreSQL), then the
   * controller; any PostgreSQL still running is stopped by its PID; the root is deleted if asked.
   */
  @Override
  public synchronized void close() {
    if (closed) return;
    closed = true;
    if (hook != null && Thread.currentThread() != hook) {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook runs or will run: this close() is the one that counts
      }
    }
    List<Proc> all;
    synchronized (procs) {
      all = List.copyOf(procs);
    }
    for (Proc p : all) {
      if (p.alive()) signal("CONT", List.of(p.pid())); // a stopped process cannot handle SIGTERM
    }
    for (Node n : nodes.values()) signal("CONT", n.postgresPids());
    for (Proc p : all) {
      if (p != controller && p.alive()) p.process.destroy();
    }
    for (Proc p : all) {
      if (p != controller) stopProc(p, Duration.ofSeconds(30));
    }
    for (Node n : nodes.values()) {
      List<Long> left = n.postgresPids();
      if (!left.isEmpty()) {
        signal("QUIT", List.of(left.get(0))); // immediate shutdown of a postmaster no keeper stopped
        await("postmaster of " + n.name + " gone", Duration.ofSeconds(10), () -> n.postmasterPid() < 0);
      }
    }
    for (Proc p : all) {
      if (p == controller) stopProc(p, Duration.ofSeconds(20));
    }
    if (net != null) net.close();
    if (options.deleteRoot() && !keep) Dirs.deleteTree(root);
  }
}
