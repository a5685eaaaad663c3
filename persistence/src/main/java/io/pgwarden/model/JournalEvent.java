package io.pgwarden.model;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

/**
 * Everything pgwarden writes to its journal. The JSON type names below are the stable identity of an
 * event in stored journals: classes may move or be renamed, these names may not.
 * {@code at} is the controller's wall clock in epoch milliseconds.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
  @JsonSubTypes.Type(value = FormationEvent.FormationCreated.class, name = "formation-created"),
  @JsonSubTypes.Type(value = FormationEvent.FormationSettingsChanged.class, name = "formation-settings-changed"),
  @JsonSubTypes.Type(value = FormationEvent.FormationDropped.class, name = "formation-dropped"),
  @JsonSubTypes.Type(value = FormationEvent.NodeRegistered.class, name = "node-registered"),
  @JsonSubTypes.Type(value = FormationEvent.NodeSettingsChanged.class, name = "node-settings-changed"),
  @JsonSubTypes.Type(value = FormationEvent.NodeRemoved.class, name = "node-removed"),
  @JsonSubTypes.Type(value = FormationEvent.Decided.class, name = "decided"),
  @JsonSubTypes.Type(value = FormationEvent.TermRaised.class, name = "term-raised"),
  @JsonSubTypes.Type(value = FormationEvent.QuorumConfirmed.class, name = "quorum-confirmed"),
  @JsonSubTypes.Type(value = FormationEvent.SystemIdentifierSet.class, name = "system-identifier-set"),
  @JsonSubTypes.Type(value = NodeEvent.Registered.class, name = "node.registered"),
  @JsonSubTypes.Type(value = NodeEvent.StateReached.class, name = "node.state-reached"),
  @JsonSubTypes.Type(value = NodeEvent.HealthChanged.class, name = "node.health-changed"),
  @JsonSubTypes.Type(value = NodeEvent.SettingsChanged.class, name = "node.settings-changed"),
  @JsonSubTypes.Type(value = NodeEvent.Rewound.class, name = "node.rewound"),
  @JsonSubTypes.Type(value = NodeEvent.ReportRejected.class, name = "node.report-rejected"),
  @JsonSubTypes.Type(value = NodeEvent.Fenced.class, name = "node.fenced"),
  @JsonSubTypes.Type(value = NodeEvent.Dropped.class, name = "node.dropped"),
})
public sealed interface JournalEvent permits FormationEvent, NodeEvent {
  long at();
}
