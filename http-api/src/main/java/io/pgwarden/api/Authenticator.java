package io.pgwarden.api;

import java.util.Optional;

/**
 * Turns a bearer credential into the principal it belongs to. The routes decide what each principal
 * may do: operator tokens for every operator route, a node credential only for its own node's report.
 */
@FunctionalInterface
public interface Authenticator {

  /** The principal {@code credential} (the text after "Bearer ") belongs to; empty when none. */
  Optional<Principal> authenticate(String credential);

  /**
   * The standard scheme: "pgwo_…" tokens are checked against the token file, "pgwn_…" credentials are
   * looked up by their SHA-256 through the controller ({@link ControllerService#nodeByCredentialHash}).
   */
  static Authenticator of(TokenStore operators, ControllerService nodes) {
    return credential -> {
      if (credential == null) return Optional.empty();
      if (credential.startsWith(Credentials.OPERATOR_PREFIX)) {
        return operators.verify(credential).map(Principal.Operator::new);
      }
      if (credential.startsWith(Credentials.NODE_PREFIX)) {
        return nodes.nodeByCredentialHash(Credentials.sha256Hex(credential)).map(n -> (Principal) n);
      }
      return Optional.empty();
    };
  }
}
