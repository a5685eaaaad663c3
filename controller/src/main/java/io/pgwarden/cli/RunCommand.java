package io.pgwarden.cli;

import io.pgwarden.controller.app.ControllerApp;
import io.pgwarden.controller.app.ControllerConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code pgwarden run}: the controller or the keeper, as the data directory's config says. */
@Command(name = "run", description = "Run the controller or the keeper whose configuration is in --dir.")
final class RunCommand implements Callable<Integer> {
  @Option(names = "--dir", required = true, description = "data directory made by 'pgwarden create ...'")
  Path dir;

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    String role = ControllerConfig.roleOf(dir);
    PrintWriter out = spec.commandLine().getOut();
    if (role.equals("controller")) return runController(dir, out);
    if (role.equals("keeper")) return KeeperLauncher.run(dir, out);
    throw new Pgwarden.UserError(dir + " has an unknown role '" + role + "'",
        "recreate it with 'pgwarden create monitor' or 'pgwarden create postgres'");
  }

  /** Runs a controller until the process is asked to stop (SIGINT/SIGTERM). */
  static int runController(Path dir, PrintWriter out) throws InterruptedException {
    ControllerApp app = ControllerApp.start(dir, ControllerConfig.load(dir));
    out.println("controller running on port " + app.port() + " (Ctrl-C stops it)");
    out.flush();
    CountDownLatch stop = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      app.close();
      stop.countDown();
    }, "pgwarden-shutdown"));
    stop.await();
    return Pgwarden.OK;
  }
}
