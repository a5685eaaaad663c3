package io.pgwarden.api;

/** Who a request comes from, after its bearer credential was checked. */
public sealed interface Principal {
  /** An operator token; {@code name} is what the audit log records. */
  record Operator(String name) implements Principal {}

  /** A keeper, which may act only as its own node. */
  record Node(String formation, int nodeId) implements Principal {}
}
