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

  /** A TCP connect: the fallback when nothing better is wired in. */
  NodeProbe TCP_CONNECT = (address, timeout) -> {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(address.host(), address.port()), (int) timeout.toMillis());
      return new Result(true, "connected");
    } catch (IOException e) {
      return new Result(false, e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
    }
  };
}
