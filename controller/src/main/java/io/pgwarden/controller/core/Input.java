package io.pgwarden.controller.core;

import io.pgwarden.api.Dto;
import io.pgwarden.model.FormationSettings;
import io.pgwarden.model.NodeReport;
import io.pgwarden.model.Requester;

/** What the decision core reacts to. Every input is one message to the formation's supervisor. */
public sealed interface Input {
  /**
   * The supervisor finished recovering its journal: a new incarnation begins. {@code recovered} says
   * whether the journal held the formation (only then may keepers know terms this incarnation did not
   * issue, and the term is raised).
   */
  record Start(boolean recovered) implements Input {}

  record Tick() implements Input {}

  record CreateFormation(FormationSettings settings, Requester by) implements Input {}

  record DropFormation(Requester by) implements Input {}

  /** A keeper registering; {@code credentialHash} is the SHA-256 of the credential the shell generated. */
  record Register(Dto.RegisterNode request, String credentialHash) implements Input {}

  record Report(int nodeId, NodeReport report) implements Input {}

  /** The controller's own probe of a node's PostgreSQL. */
  record Probe(int nodeId, boolean ok, String detail) implements Input {}

  record Operator(Dto.OperatorRequest request, Requester by) implements Input {}
}
