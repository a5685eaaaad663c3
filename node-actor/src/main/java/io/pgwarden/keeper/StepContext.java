package io.pgwarden.keeper;

import io.pgwarden.model.Lsn;
import io.pgwarden.model.PeerInfo;
import java.util.List;

/**
 * The runtime parameters of a transition's steps, from the controller's latest reply: whom to clone or
 * follow, up to where to fast-forward, which quorum to apply, which peers need slots and HBA entries.
 */
public record StepContext(PeerInfo upstream, Lsn fastForwardTo, String syncStandbyNames, List<PeerInfo> peers,
    String dbname) {

  public static final StepContext EMPTY = new StepContext(null, null, "", List.of(), null);

  public StepContext {
    peers = peers == null ? List.of() : List.copyOf(peers);
    syncStandbyNames = syncStandbyNames == null ? "" : syncStandbyNames;
  }
}
