package io.pgwarden.controller.core;

import io.pgwarden.model.FormationEvent;
import io.pgwarden.model.NodeEvent;
import java.util.List;
import java.util.Set;

/**
 * What one input leads to: the events to journal (all at once, before anything else leaves), the new
 * state, the reply to the sender (a value, or an {@link io.pgwarden.api.ApiException}), the facts for
 * the nodes' own journals, the nodes whose goal changed (their long-polls wake), and when the core wants
 * to be asked again (0: at the next tick is soon enough).
 */
public record Outcome(
    List<FormationEvent> events,
    Formation formation,
    Observations observations,
    Object reply,
    List<NodeNote> nodeNotes,
    Set<Integer> goalsChanged,
    long wakeAtMono) {

  /** A fact for node {@code nodeId}'s NodeActor to journal if it changes anything. */
  public record NodeNote(int nodeId, NodeEvent event) {}
}
