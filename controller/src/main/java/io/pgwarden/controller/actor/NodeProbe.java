package io.pgwarden.controller.actor;

import io.pgwarden.model.NodeAddress;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;

/** The controller's probe of a node's PostgreSQL: is it accepting connections? */
public interface NodeProbe {
  record Result(boolean ok, String detail) {}

  Result probe(NodeAddress address, Duration timeout);

  /**
   * The PostgreSQL startup-packet probe: any answer but "cannot connect now" means the server accepts
   * connections; no authentication is completed.
   */
  NodeProbe DEFAULT = (address, timeout) -> {
    io.pgwarden.keeper.pg.Probe.Result r = io.pgwarden.keeper.pg.Probe.probe(address.host(), address.port(), timeout);
    return new Result(r.alive(), r.detail());
  };

  /** A TCP connect: only says the port is open. */
  NodeProbe TCP_CONNECT = (address, timeout) -> {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(address.host(), address.port()), (int) timeout.toMillis());
      return new Result(true, "connected");
    } catch (IOException e) {
      return new Result(false, e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
    }
  };
}
