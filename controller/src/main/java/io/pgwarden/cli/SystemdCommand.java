package io.pgwarden.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code pgwarden show systemd}: a unit for a keeper or controller. The keeper is the parent of its
 * postmaster; with KillMode=control-group and a watchdog shorter than the write lease, a keeper that
 * hangs is killed with its PostgreSQL instead of leaving a primary running without a fence.
 */
@Command(name = "systemd", description = "Print a systemd unit that runs this node.")
final class SystemdCommand implements Callable<Integer> {
  @Option(names = "--dir", required = true, description = "the node's data directory")
  Path dir;

  @Option(names = "--user", defaultValue = "postgres", description = "the user the service runs as")
  String user;

  @Option(names = "--binary", defaultValue = "/usr/local/bin/pgwarden", description = "path of the pgwarden script")
  String binary;

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    long leaseMs = io.pgwarden.model.Timing.DEFAULT.leaseMs();
    long watchdogMs = Math.max(500, leaseMs / 2);
    spec.commandLine().getOut().print(unit(dir.toAbsolutePath().toString(), user, binary, watchdogMs));
    return Pgwarden.OK;
  }

  static String unit(String dir, String user, String binary, long watchdogMs) {
    return String.join("\n",
        "[Unit]",
        "Description=pgwarden node (" + dir + ")",
        "After=network-online.target",
        "Wants=network-online.target",
        "",
        "[Service]",
        "Type=notify",
        "User=" + user,
        "ExecStart=" + binary + " run --dir " + dir,
        "Restart=always",
        "RestartSec=1",
        "# exit 4: the node was dropped from its formation; restarting would do nothing useful",
        "RestartPreventExitStatus=4",
        "# The keeper is the parent of its postmaster: stopping or killing the service stops PostgreSQL too,",
        "# so a hung keeper never leaves a primary writing without its lease.",
        "KillMode=control-group",
        "TimeoutStopSec=30",
        "# Shorter than the write lease (" + io.pgwarden.model.Timing.DEFAULT.leaseMs() + " ms): a keeper that stops"
            + " answering is killed before its lease could be renewed by nobody.",
        "WatchdogSec=" + watchdogMs + "ms",
        "# the keeper signals readiness and its watchdog with systemd-notify, a child process\n" + "NotifyAccess=all",
        "LimitNOFILE=65536",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "");
  }
}
