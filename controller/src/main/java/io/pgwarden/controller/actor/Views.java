package io.pgwarden.controller.actor;

import io.pgwarden.api.Dto;
import io.pgwarden.controller.core.FailureDetector;
import io.pgwarden.controller.core.Formation;
import io.pgwarden.controller.core.GroupRules;
import io.pgwarden.controller.core.Member;
import io.pgwarden.model.NodeReport;
import java.util.ArrayList;
import java.util.List;

/** Read-only views of a formation, built from a supervisor's snapshot. Pure. */
public final class Views {
  private Views() {}

  public static Dto.FormationSummary summary(Formation f) {
    return new Dto.FormationSummary(f.name(), f.settings(), f.term(), f.members().size());
  }

  public static Dto.FormationState state(FormationSupervisor.Snapshot s) {
    Formation f = s.formation();
    FailureDetector d = new FailureDetector(f, s.observations(), s.timing(), s.now().mono());
    List<Dto.NodeView> nodes = new ArrayList<>();
    for (Member m : f.members().values()) {
      var o = s.observations().of(m.nodeId());
      NodeReport r = o.report();
      String health = d.healthy(m.nodeId()) ? "good" : d.unhealthy(m.nodeId()) ? "bad" : "unknown";
      nodes.add(new Dto.NodeView(m.nodeId(), m.name(), m.address().host(), m.address().port(),
          r == null ? null : r.state(), m.goalState(), m.goal().stamp(), r == null ? 0 : r.timeline(),
          r == null ? null : r.lsn(), r == null ? null : r.pg(), health,
          o.reportMono() == null ? null : s.now().mono() - o.reportMono(), m.settings().candidatePriority(),
          m.settings().replicationQuorum()));
    }
    Member w = writer(f);
    boolean open = w != null && s.observations().of(w.nodeId()).report() != null
        && s.observations().of(w.nodeId()).report().state() == w.goalState();
    String names = w == null ? "" : GroupRules.of(f, s.observations(), s.timing(), s.now().mono())
        .desiredNames(w.nodeId());
    return new Dto.FormationState(f.name(), f.term(), f.settings(), w == null ? null : w.nodeId(), open, names, nodes,
        f.systemIdentifier() == 0 ? null : Long.toUnsignedString(f.systemIdentifier()));
  }

  /**
   * The multi-host URIs clients use. The primary comes first, so that a client connecting while another
   * host hangs reaches the primary without waiting out that host's connect timeout.
   */
  public static Dto.Uris uris(Formation f) {
    List<Member> order = new ArrayList<>();
    Member w = writer(f);
    if (w != null) order.add(w);
    for (Member m : f.members().values()) {
      if (w == null || m.nodeId() != w.nodeId()) order.add(m);
    }
    List<String> hosts = order.stream().map(m -> m.address().toString()).toList();
    String db = f.settings().dbname();
    String joined = String.join(",", hosts);
    return new Dto.Uris(f.name(),
        "postgres://" + joined + "/" + db + "?target_session_attrs=read-write&connect_timeout=2",
        "jdbc:postgresql://" + joined + "/" + db + "?targetServerType=primary&connectTimeout=2");
  }

  public static Dto.Settings settings(FormationSupervisor.Snapshot s) {
    Formation f = s.formation();
    Member w = writer(f);
    String names = w == null ? "" : GroupRules.of(f, s.observations(), s.timing(), s.now().mono())
        .desiredNames(w.nodeId());
    List<Dto.NodeSettingsView> nodes = f.members().values().stream().map(m -> new Dto.NodeSettingsView(m.nodeId(),
        m.name(), m.settings().candidatePriority(), m.settings().replicationQuorum())).toList();
    return new Dto.Settings(f.name(), f.settings(), names, nodes);
  }

  static Member writer(Formation f) {
    return f.active().stream().filter(m -> m.goalState().canTakeWrites()).findFirst().orElse(null);
  }
}
