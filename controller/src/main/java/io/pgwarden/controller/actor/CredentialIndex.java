package io.pgwarden.controller.actor;

import io.pgwarden.api.Principal;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Node credentials by hash, for the HTTP layer's authentication. Filled by the supervisors from their
 * journals (at recovery and at each registration), so it survives controller restarts.
 */
public final class CredentialIndex {
  private final ConcurrentHashMap<String, Principal.Node> byHash = new ConcurrentHashMap<>();

  public void put(String hash, String formation, int nodeId) {
    if (hash != null && !hash.isEmpty()) byHash.put(hash, new Principal.Node(formation, nodeId));
  }

  public void remove(String hash) {
    if (hash != null) byHash.remove(hash);
  }

  public Optional<Principal.Node> find(String hash) {
    return Optional.ofNullable(byHash.get(hash));
  }
}
