package io.pgwarden.model;

/** Who asked for an operator action and why; kept in the journal for the audit. */
public record Requester(String who, String reason, String idempotencyKey) {
  public static final Requester CONTROLLER = new Requester("controller", "", "");

  public static Requester of(String who, String reason) {
    return new Requester(who, reason == null ? "" : reason, "");
  }
}
