package io.pgwarden.keeper;

import static io.pgwarden.keeper.KeeperDriver.ts;
import static io.pgwarden.model.NodeState.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Promotion: confirm the permit, then promote; never on an expired permit; never under a promise. */
class PermitTest {

  /**
   * A chosen candidate (no promise outstanding) told to promote: the gate is its first step (writes were
   * closed on the way into prepare_promotion), so the confirmation leaves at once.
   */
  static KeeperDriver atThePermitGate() {
    KeeperDriver d = new KeeperDriver();
    d.start(PREPARE_PROMOTION, ts(4, 2)).facts(PgFacts.standby());
    d.advance(d.cfg.promiseMs()); // past the promise a restarted keeper assumes
    d.term = 4;
    List<Action> a = d.answer(STOP_REPLICATION, ts(4, 3));
    assertEquals(List.of(), d.in(a, Action.RunSteps.class), "nothing runs before the permit is confirmed");
    Action.SendReport confirm = d.in(a, Action.SendReport.class).get(0);
    assertEquals("permit confirmation", confirm.reason());
    assertEquals(0, confirm.waitMs());
    assertEquals(Transition.Phase.AWAITING_PERMIT, d.state.transition().phase());
    return d;
  }

  static Action.SendReport confirmation(KeeperDriver d) {
    Action.SendReport r = d.lastReport();
    assertEquals("permit confirmation", r.reason());
    return r;
  }

  @Test
  void aFreshConfirmationLetsThePromotionRunBeforeThePermitEnds() {
    KeeperDriver d = atThePermitGate();
    Action.SendReport c = confirmation(d);
    d.advance(300);
    d.on(new Event.ReplyReceived(d.reply(STOP_REPLICATION, ts(4, 3), 0, 1_500), c.sentMono(), c.sentWall()));
    Action.RunSteps promote = d.now(Action.RunSteps.class).get(0);
    assertEquals(List.of(Step.PROMOTE, Step.REMOVE_STANDBY_SETUP), promote.steps());
    assertEquals(c.sentMono() + 1_500, promote.notAfterMono(), "the executor must not begin after the permit");
    // promoted: PostgreSQL takes no recovery any more, the permit covers it
    d.facts(PgFacts.primary(""));
    assertEquals(List.of(), d.now(Action.FencePostgres.class));
    List<Action> a = d.finishOk();
    assertEquals(new Persisted(STOP_REPLICATION, ts(4, 3), 4), d.in(a, Action.PersistState.class).get(0).state());
  }

  @Test
  void anAnswerAfterThePermitsValidityIsARefusal() {
    KeeperDriver d = atThePermitGate();
    Action.SendReport c = confirmation(d);
    d.advance(1_600);
    Action.SendReport again = confirmation(d);
    assertTrue(again.sentMono() > c.sentMono(), "an unanswered confirmation is void after the permit's validity");
    d.on(new Event.ReplyReceived(d.reply(STOP_REPLICATION, ts(4, 3), 0, 1_500), c.sentMono(), c.sentWall()));
    assertEquals(List.of(), d.now(Action.RunSteps.class), "the late answer to the old one promotes nothing");
    d.on(new Event.ReplyReceived(d.reply(STOP_REPLICATION, ts(4, 3), 0, 1_500), again.sentMono(), again.sentWall()));
    assertEquals(List.of(Step.PROMOTE, Step.REMOVE_STANDBY_SETUP), d.now(Action.RunSteps.class).get(0).steps());
  }

  @Test
  void anAnswerThatArrivesLateIsRefusedEvenIfItIsTheLatest() {
    KeeperDriver d = atThePermitGate();
    Action.SendReport c = confirmation(d);
    d.mono += 1_500; // the answer arrives exactly when the permit ends (no tick in between)
    d.wall += 1_500;
    d.on(new Event.ReplyReceived(d.reply(STOP_REPLICATION, ts(4, 3), 0, 1_500), c.sentMono(), c.sentWall()));
    assertEquals(List.of(), d.now(Action.RunSteps.class));
    assertTrue(d.state.error().contains("beyond the permit"), d.state.error());
  }

  @Test
  void aPermitWithTooLittleTimeLeftIsConfirmedAgain() {
    KeeperDriver d = atThePermitGate();
    Action.SendReport c = confirmation(d);
    d.mono += 1_450;
    d.wall += 1_450;
    d.on(new Event.ReplyReceived(d.reply(STOP_REPLICATION, ts(4, 3), 0, 1_500), c.sentMono(), c.sentWall()));
    assertEquals(List.of(), d.now(Action.RunSteps.class), "50 ms left is less than the margin");
    assertEquals("permit confirmation", d.now(Action.SendReport.class).get(0).reason());
  }

  @Test
  void noPermitOrAnotherGoalIsARefusal() {
    KeeperDriver d = atThePermitGate();
    d.answer(d.reply(STOP_REPLICATION, ts(4, 3), 0, 0));
    assertEquals(List.of(), d.now(Action.RunSteps.class));
    assertTrue(d.state.error().contains("no permit"), d.state.error());
    d.advance(500);
    Action.SendReport c = confirmation(d);
    d.answer(REPORT_LSN, ts(4, 4));
    Action.RunSteps run = d.now(Action.RunSteps.class).get(0);
    assertEquals(REPORT_LSN, run.to(), "the gate is abandoned for the newer goal");
    assertTrue(c.sentMono() <= d.mono);
  }

  @Test
  void aFailedConfirmationIsRetriedAfterAnInterval() {
    KeeperDriver d = atThePermitGate();
    d.failLastReport();
    assertEquals(List.of(), d.now(Action.RunSteps.class));
    List<Action> a = d.advance(500);
    assertEquals("permit confirmation", d.in(a, Action.SendReport.class).get(0).reason());
  }

  @Test
  void aPromiseToAPrimaryBlocksThePromotionUntilItEnds() {
    KeeperDriver d = new KeeperDriver();
    d.start(SECONDARY, ts(3, 5)).facts(PgFacts.standby());
    d.advance(d.cfg.promiseMs());
    long promisedAt = d.mono;
    Action.AnswerPeer ans = d.in(d.on(new Event.PeerPromiseRequest(7, 2, 3)), Action.AnswerPeer.class).get(0);
    assertTrue(ans.ok());
    d.advance(300);
    d.term = 4;
    d.answer(PREPARE_PROMOTION, ts(4, 1));
    d.answer(STOP_REPLICATION, ts(4, 2));
    d.finishOk();
    // no confirmation, hence no promotion, while the promise lasts
    List<Action> a = d.advance(promisedAt + d.cfg.promiseMs() - d.mono - 100);
    assertTrue(d.in(a, Action.SendReport.class).stream().noneMatch(r -> r.reason().equals("permit confirmation")));
    assertEquals(List.of(), d.in(a, Action.RunSteps.class));
    a = d.advance(100);
    assertEquals("permit confirmation", d.in(a, Action.SendReport.class).get(0).reason());
    d.answer(STOP_REPLICATION, ts(4, 2));
    assertEquals(Step.PROMOTE, d.now(Action.RunSteps.class).get(0).steps().get(0));
  }

  @Test
  void aPromiseAlsoHoldsWritesBackAtTheLeaseGate() {
    KeeperDriver d = new KeeperDriver();
    d.start(SECONDARY, ts(3, 5)).facts(PgFacts.standby());
    d.advance(d.cfg.promiseMs());
    d.on(new Event.PeerPromiseRequest(7, 2, 3));
    d.term = 4;
    d.answer(SINGLE, ts(4, 1));
    assertEquals(List.of(), d.now(Action.RunSteps.class));
    assertEquals(Transition.Phase.AWAITING_LEASE, d.state.transition().phase());
    long promisedUntil = d.state.promise().untilMono();
    while (d.mono < promisedUntil) {
      assertEquals(null, d.lastRun(), "no step while the promise lasts");
      d.advance(100);
      d.answer(SINGLE, ts(4, 1));
    }
    assertEquals(Step.START, d.lastRun().steps().get(0));
  }

  /** Candidates refuse promises, so this cannot arise from events; the gate still re-checks. */
  @Test
  void aPromiseHoweverItCameBlocksEvenAConfirmedPermit() {
    KeeperDriver d = atThePermitGate();
    KeeperState.Builder b = d.state.toBuilder();
    b.promise = new Promise(2, d.mono + 1_000, d.wall + 1_000);
    d.state = b.build();
    d.answer(STOP_REPLICATION, ts(4, 3));
    assertEquals(List.of(), d.now(Action.RunSteps.class));
  }

  @Test
  void aRestartedCandidateAssumesItMayHavePromised() {
    KeeperDriver d = new KeeperDriver();
    d.start(PREPARE_PROMOTION, ts(4, 2)).facts(PgFacts.standby());
    d.term = 4;
    d.answer(STOP_REPLICATION, ts(4, 3));
    List<Action> a = d.advance(d.cfg.promiseMs() - 100);
    assertTrue(d.in(a, Action.SendReport.class).stream().noneMatch(r -> r.reason().equals("permit confirmation")));
    a = d.advance(100);
    assertEquals("permit confirmation", d.in(a, Action.SendReport.class).get(0).reason());
  }

  @Test
  void aPromotedNodeWhosePermitLapsesIsFenced() {
    KeeperDriver d = atThePermitGate();
    d.answer(STOP_REPLICATION, ts(4, 3));
    d.facts(PgFacts.primary(""));
    d.finishOk();
    // routine answers renew the permit
    for (int i = 0; i < 20; i++) {
      d.advance(100);
      if (d.lastReport().sentMono() == d.mono) d.answer(STOP_REPLICATION, ts(4, 3));
      assertEquals(List.of(), d.now(Action.FencePostgres.class));
    }
    // the controller goes away: the permit ends 1.5 s after the last answered report was sent
    long lastSent = d.lastReport().sentMono();
    List<Action> a = d.advance(lastSent + d.t.permitMs() - d.mono - 1);
    assertEquals(List.of(), d.in(a, Action.FencePostgres.class));
    assertEquals(1, d.in(d.advance(1), Action.FencePostgres.class).size());
  }
}
