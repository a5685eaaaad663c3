package io.pgwarden.keeper;

import static io.pgwarden.keeper.KeeperDriver.ts;
import static io.pgwarden.model.NodeState.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgwarden.model.NodeState;
import io.pgwarden.model.TermSeq;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Goals become transitions: stamps, one at a time, persistence, retries, restarts, errors. */
class GoalsTest {

  static KeeperDriver secondaryAt(TermSeq executed) {
    KeeperDriver d = new KeeperDriver();
    d.start(SECONDARY, executed).facts(PgFacts.standby());
    return d;
  }

  static Stream<Arguments> notNewer() {
    return Stream.of(Arguments.of(ts(3, 5), "the same stamp"), Arguments.of(ts(3, 4), "an older seq"),
        Arguments.of(ts(2, 9), "an older term"), Arguments.of(ts(0, 0), "no stamp"));
  }

  @ParameterizedTest(name = "{1} is ignored")
  @MethodSource("notNewer")
  void goalsNotNewerThanTheLastExecutedAreIgnored(TermSeq stamp, String what) {
    KeeperDriver d = secondaryAt(ts(3, 5));
    d.answer(CATCHINGUP, stamp);
    assertEquals(List.of(), d.now(Action.RunSteps.class));
    assertNull(d.state.transition());
    d.advance(1_000);
    assertNull(d.lastRun());
  }

  @Test
  void aNewerGoalRunsItsPlannedSteps() {
    KeeperDriver d = secondaryAt(ts(3, 5));
    d.answer(CATCHINGUP, ts(3, 6));
    Action.RunSteps run = d.now(Action.RunSteps.class).get(0);
    assertEquals(ts(3, 6), run.stamp());
    assertEquals(List.of(Step.FOLLOW_PRIMARY, Step.START), run.steps());
    assertEquals(2, run.context().upstream().nodeId());
    assertEquals(Long.MAX_VALUE, run.notAfterMono());
  }

  @Test
  void oneTransitionAtATimeAndPersistOnlyAfterSuccess() {
    KeeperDriver d = secondaryAt(ts(3, 5));
    d.answer(CATCHINGUP, ts(3, 6));
    assertEquals(List.of(), d.now(Action.PersistState.class));
    // a newer goal while the executor works: it waits
    d.answer(REPORT_LSN, ts(3, 7));
    assertEquals(List.of(), d.now(Action.RunSteps.class));
    assertEquals(SECONDARY, d.state.current());
    List<Action> a = d.finishOk();
    assertEquals(new Persisted(CATCHINGUP, ts(3, 6), 3), d.in(a, Action.PersistState.class).get(0).state());
    Action.RunSteps next = d.in(a, Action.RunSteps.class).get(0);
    assertEquals(CATCHINGUP, next.from());
    assertEquals(REPORT_LSN, next.to());
    assertEquals(ts(3, 7), next.stamp());
    a = d.finishOk();
    assertEquals(new Persisted(REPORT_LSN, ts(3, 7), 3), d.in(a, Action.PersistState.class).get(0).state());
  }

  @Test
  void aFinishForAnotherStampChangesNothing() {
    KeeperDriver d = secondaryAt(ts(3, 5));
    d.answer(CATCHINGUP, ts(3, 6));
    d.on(new Event.TransitionFinished(ts(3, 4), new Event.Ok(null)));
    assertEquals(List.of(), d.now(Action.PersistState.class));
    assertEquals(Transition.Phase.RUNNING, d.state.transition().phase());
  }

  @Test
  void aFailedTransitionIsRetriedFromItsFirstStepWithBackoff() {
    KeeperDriver d = secondaryAt(ts(3, 5));
    d.answer(CATCHINGUP, ts(3, 6));
    List<Action> a = d.finishFailed("pg_ctl start timed out");
    assertTrue(d.in(a, Action.ReportError.class).get(0).detail().contains("pg_ctl start timed out"));
    assertTrue(d.in(a, Action.SendReport.class).get(0).report().error().contains("attempt 1"));
    assertEquals(List.of(), d.in(d.advance(100), Action.RunSteps.class));
    List<Action.RunSteps> retry = d.in(d.advance(100), Action.RunSteps.class);
    assertEquals(List.of(Step.FOLLOW_PRIMARY, Step.START), retry.get(0).steps());
    d.finishFailed("again");
    assertEquals(List.of(), d.in(d.advance(300), Action.RunSteps.class), "second retry waits 400 ms");
    assertEquals(1, d.in(d.advance(100), Action.RunSteps.class).size());
    a = d.finishOk();
    assertEquals(CATCHINGUP, d.state.current());
    assertNull(d.in(a, Action.SendReport.class).get(0).report().error(), "success clears the error");
  }

  @Test
  void aFailedStepIsRetriedForTheNewestGoalInstead() {
    KeeperDriver d = secondaryAt(ts(3, 5));
    d.answer(CATCHINGUP, ts(3, 6));
    d.finishFailed("no primary");
    d.answer(REPORT_LSN, ts(3, 7));
    Action.RunSteps run = d.now(Action.RunSteps.class).get(0);
    assertEquals(SECONDARY, run.from());
    assertEquals(REPORT_LSN, run.to());
  }

  @Test
  void aRestartResumesFromThePersistedState() {
    KeeperDriver d = secondaryAt(ts(3, 5));
    d.answer(CATCHINGUP, ts(3, 6));
    // crash before the transition finished: nothing was persisted, so the keeper is still secondary
    d.start(SECONDARY, ts(3, 5));
    assertNull(d.state.transition());
    d.facts(PgFacts.standby());
    Action.SendReport r = d.now(Action.SendReport.class).get(0);
    assertEquals(SECONDARY, r.report().state());
    assertEquals(ts(3, 5), r.report().executed());
    assertEquals("keeper started", r.reason());
    d.answer(CATCHINGUP, ts(3, 6));
    assertEquals(ts(3, 6), d.now(Action.RunSteps.class).get(0).stamp(), "the goal runs again");
  }

  @Test
  void theSameStateUnderANewerStampIsAdoptedWithoutSteps() {
    KeeperDriver d = secondaryAt(ts(3, 5));
    d.term = 4;
    d.answer(SECONDARY, ts(4, 1));
    assertEquals(List.of(), d.now(Action.RunSteps.class));
    assertEquals(ts(4, 1), d.state.node().executed());
    assertEquals(ts(4, 1), d.now(Action.SendReport.class).get(0).report().executed());
  }

  @Test
  void aTransitionWithoutStepsCompletesAtOnce() {
    KeeperDriver d = secondaryAt(ts(3, 5));
    List<Action> a = d.answer(WAIT_MAINTENANCE, ts(3, 6));
    assertEquals(new Persisted(WAIT_MAINTENANCE, ts(3, 6), 3), d.in(a, Action.PersistState.class).get(0).state());
    assertEquals(WAIT_MAINTENANCE, d.in(a, Action.SendReport.class).get(0).report().state());
  }

  @Test
  void anUnsupportedTransitionIsReportedNotGuessed() {
    KeeperDriver d = secondaryAt(ts(3, 5));
    List<Action> a = d.answer(PRIMARY, ts(3, 6));
    assertEquals(List.of(), d.in(a, Action.RunSteps.class));
    String err = d.in(a, Action.ReportError.class).get(0).detail();
    assertTrue(err.contains("unsupported transition secondary -> primary"), err);
    assertEquals(err, d.in(a, Action.SendReport.class).get(0).report().error());
    assertEquals(List.of(), d.in(d.advance(5_000), Action.RunSteps.class), "never attempted");
    assertEquals(SECONDARY, d.state.current());
    d.answer(CATCHINGUP, ts(3, 7));
    assertEquals(1, d.now(Action.RunSteps.class).size(), "a different goal is taken");
  }

  @Test
  void anExecutorThatCannotDoAStepReportsItWithoutRetrying() {
    KeeperDriver d = secondaryAt(ts(3, 5));
    d.answer(CATCHINGUP, ts(3, 6));
    List<Action> a = d.on(new Event.TransitionFinished(ts(3, 6), new Event.Unsupported("no pg_rewind")));
    assertTrue(d.in(a, Action.ReportError.class).get(0).detail().contains("no pg_rewind"));
    assertEquals(List.of(), d.in(d.advance(10_000), Action.RunSteps.class));
  }

  @Test
  void theRejoinReportedByTheExecutorIsReported() {
    KeeperDriver d = new KeeperDriver();
    d.start(DEMOTED, ts(3, 5)).facts(PgFacts.stopped());
    d.answer(CATCHINGUP, ts(4, 1));
    var rejoin = new io.pgwarden.model.RejoinInfo(ts(4, 1), "pg_rewind", 8192, 1, 2);
    List<Action> a = d.on(new Event.TransitionFinished(ts(4, 1), new Event.Ok(rejoin)));
    assertEquals(rejoin, d.in(a, Action.SendReport.class).get(0).report().lastRejoin());
  }

  @Test
  void eventsBeforeTheStartAreIgnored() {
    KeeperDriver d = new KeeperDriver();
    assertEquals(List.of(), d.facts(PgFacts.primary("")).last);
    assertEquals(List.of(), d.on(new Event.PeerPromiseRequest(1, 2, 3)));
  }

  @Test
  void theDropIsConfirmedThenTheKeeperLeaves() {
    KeeperDriver d = secondaryAt(ts(3, 5));
    d.answer(DROPPED, ts(3, 6));
    assertEquals(List.of(Step.STOP), d.lastRun().steps());
    d.finishOk();
    assertEquals(NodeState.DROPPED, d.lastReport().report().state());
    List<Action> a = d.answer(DROPPED, ts(3, 6));
    assertEquals(1, d.in(a, Action.LeaveFormation.class).size());
  }
}
