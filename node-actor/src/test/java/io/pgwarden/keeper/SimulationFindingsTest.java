package io.pgwarden.keeper;

import static io.pgwarden.keeper.KeeperDriver.peer;
import static io.pgwarden.keeper.KeeperDriver.ts;
import static io.pgwarden.model.NodeState.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgwarden.model.Lsn;
import io.pgwarden.model.PgStatus;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Keeper-core bugs the deterministic simulator found (docs/simulation.md, "Findings"), one test each. */
class SimulationFindingsTest {
  static PgFacts hung() {
    return new PgFacts(PgStatus.HUNG, false, 0, 0, Lsn.ZERO, Lsn.ZERO, "", List.of(), null, null);
  }

  /** Finding 5: a standby that is starting answers nothing (HUNG) and was fenced as if writable. */
  @Test
  void aStandbyStartingUpIsNotFenced() {
    KeeperDriver d = new KeeperDriver();
    d.start(WAIT_STANDBY, ts(3, 4)).facts(PgFacts.stopped());
    d.answer(CATCHINGUP, ts(3, 5));
    d.finishAll(); // clone, configure, follow, start: handed to the executor
    d.facts(hung()); // the server is starting: postmaster alive, no answer yet
    d.advance(300);
    assertEquals(List.of(), d.in(d.all, Action.FencePostgres.class));
    // a primary found hung with nothing known of it may still be a frozen writer: fenced
    KeeperDriver p = new KeeperDriver();
    p.start(PRIMARY, ts(3, 4)).facts(hung());
    assertEquals(1, p.in(p.all, Action.FencePostgres.class).size());
  }

  /** Finding 6: a deposed primary learnt the new term from a refusal and renewed itself in it. */
  @Test
  void aPrimaryNeverRenewsThroughPeersInATermItWasNotGrantedIn() {
    KeeperDriver d = FailsafeTest.primaryLosingItsController();
    Action.AskPeers first = d.lastOf(Action.AskPeers.class);
    assertEquals(3, first.term());
    // peer 2 knows term 4 (a failover happened without us): its refusal teaches us term 4
    d.on(new Event.PeerConfirmation(2, first.round(), 4, false, "knows the newer term 4"));
    assertEquals(4, d.state.node().knownTerm());
    int asked = d.in(d.all, Action.AskPeers.class).size();
    List<Action> later = d.advance(1_000);
    assertEquals(List.of(), d.in(later, Action.AskPeers.class), "no round in term 4");
    assertEquals(asked, d.in(d.all, Action.AskPeers.class).size());
    // so the lease runs out and the fence follows
    assertFalse(d.in(d.advance(2_500), Action.FencePostgres.class).isEmpty());
  }

  /** Finding 8: PostgreSQL died while the primary applied its quorum; the retry never restarted it. */
  @Test
  void aTransitionWaitingToRetryRestartsItsServer() {
    KeeperDriver d = new KeeperDriver();
    d.start(WAIT_PRIMARY, ts(3, 4)).facts(PgFacts.primary(""));
    d.answer(PRIMARY, ts(3, 5));
    d.finishFailed("reload: PostgreSQL is not running");
    int before = d.all.size();
    d.facts(PgFacts.stopped());
    d.answer(PRIMARY, ts(3, 5)); // the lease keeps coming
    d.advance(100);
    assertEquals(Transition.Phase.BACKOFF, d.state.transition().phase());
    List<Action.StartPostgres> starts = d.in(d.all.subList(before, d.all.size()), Action.StartPostgres.class);
    assertEquals(1, starts.size(), "the server is started under the lease while the retry waits");
    assertFalse(starts.get(0).readOnly());
  }

  /** Finding 9: a wall clock stepped back kept a promise — and the gates — closed for hours. */
  @Test
  void aPromiseEndsOnTheMonotonicClockWhateverTheWallClockDoes() {
    Promise p = new Promise(1, 10_000, 1_764_000_010_000L);
    assertTrue(p.activeAt(9_999, 1_764_000_009_999L));
    // the wall clock stepped back an hour: the promise still ends when the monotonic clock says
    assertFalse(p.activeAt(10_000, 1_764_000_010_000L - 3_600_000));
  }

  /** Finding 7: an old primary that joined an election follows the new one only after a rewind. */
  @Test
  void followingTheNewPrimaryFromTheElectionRewindsFirst() {
    for (var from : List.of(REPORT_LSN, JOIN_SECONDARY)) {
      List<Step> steps = TransitionPlanner.plan(from, SECONDARY).orElseThrow();
      assertEquals(Step.REWIND_OR_CLONE, steps.get(0), from + " -> secondary");
      assertTrue(steps.indexOf(Step.REWIND_OR_CLONE) < steps.indexOf(Step.START));
    }
    assertEquals(peer(2, SECONDARY, 50).nodeId(), 2);
  }
}
