package io.pgwarden.model;

/** Where a node's PostgreSQL listens, as clients and peers reach it. */
public record NodeAddress(String host, int port) {
  public NodeAddress {
    if (host == null || host.isBlank()) throw new IllegalArgumentException("host must not be empty");
    if (port < 1 || port > 65535) throw new IllegalArgumentException("port must be between 1 and 65535, got " + port);
  }

  @Override
  public String toString() {
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }
}
