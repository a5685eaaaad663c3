package io.pgwarden.sim;

import io.pgwarden.keeper.Action;
import io.pgwarden.keeper.Step;
import io.pgwarden.keeper.StepContext;
import io.pgwarden.model.PeerInfo;
import io.pgwarden.model.RejoinInfo;
import io.pgwarden.model.NodeState;
import io.pgwarden.sim.Wal.Commit;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * One executor step on the simulated PostgreSQL, as the real executor maps it onto the operations of
 * io.pgwarden.keeper.pg: it takes simulated time, checks what the real operation would check, acts, and
 * may fail. Waits poll like the real ones do and give up after a timeout.
 */
final class Exec {
  private final SimKeeper k;
  private final World w;
  private final SimPg pg;
  private final Action.RunSteps rs;
  private final Step st;
  private final StepContext ctx;

  Exec(SimKeeper k, Action.RunSteps rs, Step st) {
    this.k = k;
    this.w = k.w;
    this.pg = k.node.pg;
    this.rs = rs;
    this.st = st;
    this.ctx = rs.context();
  }

  private void after(long ms, SimKeeper.StepDone done, String err) {
    k.later(ms * 1000, () -> done.done(err, null));
  }

  private void ok(long ms, SimKeeper.StepDone done, Runnable effect) {
    k.later(ms * 1000, () -> {
      effect.run();
      done.done(null, null);
    });
  }

  /** Polls {@code cond} every {@code everyMs} until it holds or {@code timeoutMs} passes. */
  private void await(BooleanSupplier cond, long everyMs, long timeoutMs, String what, SimKeeper.StepDone done) {
    long deadline = w.now + timeoutMs * 1000;
    Runnable[] poll = new Runnable[1];
    poll[0] = () -> {
      if (cond.getAsBoolean()) {
        done.done(null, null);
      } else if (w.now >= deadline) {
        done.done("timed out waiting for " + what, null);
      } else {
        k.later(everyMs * 1000, poll[0]);
      }
    };
    poll[0].run();
  }

  private SimPg upstreamPg() {
    PeerInfo u = ctx.upstream();
    return u == null ? null : w.pgOf(u.nodeId());
  }

  void run(SimKeeper.StepDone done) {
    if (st instanceof Step.InitDb) {
      ok(w.rng.between(800, 1_500), done, () -> {
        if (!pg.initialized) pg.initdb(w.rng.nextLong() & Long.MAX_VALUE);
      });
    } else if (st instanceof Step.ConfigureInstance) {
      ok(w.rng.between(20, 60), done, () -> { });
    } else if (st instanceof Step.CreateDatabase) {
      k.later(w.rng.between(100, 300) * 1000, () -> {
        if (!pg.writable()) {
          done.done("cannot create the database: not a running primary", null);
        } else {
          pg.checkpoint(); // CREATE DATABASE checkpoints
          done.done(null, null);
        }
      });
    } else if (st instanceof Step.Clone c) {
      clone(c.source() == Step.CloneSource.PRIMARY_WITH_SLOT, done, null);
    } else if (st instanceof Step.RewindOrClone) {
      rewindOrClone(done);
    } else if (st instanceof Step.Start) {
      start(done);
    } else if (st instanceof Step.Stop) {
      stop(done);
    } else if (st instanceof Step.Checkpoint) {
      k.later(w.rng.between(4, 20) * 1000, () -> {
        if (!pg.up()) {
          done.done(null, null); // as StepRunner: skipped, PostgreSQL is not running
        } else if (!pg.proc.running()) {
          done.done("checkpoint: no answer", null);
        } else {
          pg.checkpoint();
          done.done(null, null);
        }
      });
    } else if (st instanceof Step.WriteStandbySetup s) {
      standbySetup(s.upstream(), done);
    } else if (st instanceof Step.RemoveStandbySetup) {
      ok(w.rng.between(5, 20), done, pg::removeStandbySetup);
    } else if (st instanceof Step.AwaitReplay) {
      if (ctx.fastForwardTo() == null) {
        after(5, done, "no fast-forward target");
        return;
      }
      long target = ctx.fastForwardTo().value();
      SimPg src = upstreamPg();
      // as FactsReader.awaitReplay: streaming from the source, on its timeline, replayed up to the target
      await(() -> pg.up() && pg.inRecovery && src != null && pg.rx != null && pg.rx.streaming
          && pg.rx.upstream == src.id() && pg.timeline() == src.timeline() && pg.replayed >= target, 20, 30_000,
          "replay of " + Long.toHexString(target) + " on the source's timeline", done);
    } else if (st instanceof Step.VerifyTimeline) {
      verifyTimeline(done);
    } else if (st instanceof Step.Promote) {
      promote(done);
    } else if (st instanceof Step.SetSyncStandbyNames s) {
      k.later(w.rng.between(5, 25) * 1000, () -> {
        if (!pg.up()) {
          done.done("reload: PostgreSQL is not running", null);
          return;
        }
        pg.setSyncNames(s.value() == Step.SyncNames.EMPTY ? "" : ctx.syncStandbyNames());
        done.done(null, null);
      });
    } else if (st instanceof Step.CancelSyncRepWaiters) {
      ok(w.rng.between(2, 10), done, pg::cancelSyncWaiters);
    } else if (st instanceof Step.AwaitSyncStandbys) {
      if (!pg.up()) {
        after(2, done, "PostgreSQL is not running");
        return;
      }
      long target = pg.flushed;
      await(() -> pg.up() && pg.quorumFlushed(target), 20, 15_000, "a synchronous standby to flush "
          + Long.toHexString(target), done);
    } else if (st instanceof Step.SetDefaultReadOnly s) {
      ok(w.rng.between(5, 20), done, () -> pg.readOnlyDefault = s.on());
    } else if (st instanceof Step.MaintainPeers) {
      k.later(w.rng.between(10, 40) * 1000, () -> {
        if (!pg.up()) {
          done.done("slots: PostgreSQL is not running", null);
          return;
        }
        pg.slots.clear();
        for (PeerInfo p : ctx.peers()) {
          if (p.nodeId() != k.node.nodeId && p.goal() != NodeState.DROPPED) pg.slots.add(p.nodeId());
        }
        done.done(null, null);
      });
    } else if (st instanceof Step.DropLocalSlots) {
      ok(w.rng.between(5, 15), done, pg.slots::clear);
    } else {
      after(1, done, "the simulated executor has no " + st.label());
    }
  }

  // ------------------------------------------------------------------ steps with more to them

  private void start(SimKeeper.StepDone done) {
    long deadline = w.now + 30_000_000L;
    pg.start(false, err -> k.later(0, () -> {
      if (err != null) {
        done.done(err, null);
      } else if (w.now > deadline) {
        done.done("start timed out", null);
      } else {
        done.done(null, null);
      }
    }));
  }

  private void stop(SimKeeper.StepDone done) {
    boolean[] finished = new boolean[1];
    pg.stopFast(err -> k.later(0, () -> {
      if (finished[0]) return;
      finished[0] = true;
      done.done(err, null);
    }));
    k.later(10_000_000L, () -> {
      if (finished[0]) return;
      finished[0] = true;
      done.done("pg_ctl stop: server does not shut down", null);
    });
  }

  private void standbySetup(Step.Upstream mode, SimKeeper.StepDone done) {
    Integer up = null;
    if (mode != Step.Upstream.NONE) {
      if (ctx.upstream() == null) {
        after(2, done, "no upstream to follow");
        return;
      }
      up = ctx.upstream().nodeId();
    }
    Integer upstream = up;
    boolean ff = mode == Step.Upstream.FAST_FORWARD_SOURCE;
    k.later(w.rng.between(5, 30) * 1000, () -> {
      if (pg.up() && !pg.inRecovery) {
        // a running primary becomes a standby only through a restart
        pg.stopFast(err -> k.later(0, () -> {
          pg.writeStandbySetup(upstream, ff);
          pg.start(false, e2 -> k.later(0, () -> done.done(e2, null)));
        }));
        return;
      }
      pg.writeStandbySetup(upstream, ff);
      done.done(null, null);
    });
  }

  private void verifyTimeline(SimKeeper.StepDone done) {
    SimPg up = upstreamPg();
    k.later(w.rng.between(5, 40) * 1000, () -> {
      if (up == null) {
        done.done("no upstream", null);
      } else if (!w.net.open(k.node.host, up.node.host) || !up.answering()) {
        done.done("IDENTIFY_SYSTEM on the upstream failed", null);
      } else if (!pg.up()) {
        done.done("PostgreSQL is not running", null);
      } else if (up.timeline() != pg.timeline()) {
        done.done("timeline " + pg.timeline() + " is not the upstream's " + up.timeline(), null);
      } else {
        done.done(null, null);
      }
    });
  }

  private void promote(SimKeeper.StepDone done) {
    w.inv.promoteBegins(k, rs);
    if (!pg.up()) {
      after(2, done, "promote: PostgreSQL is not running");
      return;
    }
    long deadline = w.now + 10_000_000L;
    Runnable[] poll = new Runnable[1];
    long[] lastSend = {-1};
    poll[0] = () -> {
      if (pg.up() && !pg.inRecovery) {
        done.done(null, null);
        return;
      }
      if (!pg.up() || w.now >= deadline) {
        done.done(pg.up() ? "promote timed out" : "PostgreSQL went down while promoting", null);
        return;
      }
      if (lastSend[0] < 0 || w.now - lastSend[0] >= 100_000) {
        lastSend[0] = w.now;
        pg.requestPromote();
      }
      k.later(20_000, poll[0]);
    };
    poll[0].run();
  }

  private void clone(boolean withSlot, SimKeeper.StepDone done, RejoinInfoFactory rejoin) {
    SimPg src = upstreamPg();
    if (src == null) {
      after(5, done, "pg_basebackup: no upstream to clone from");
      return;
    }
    String why = cloneRefusal(src, withSlot);
    if (why != null) {
      after(w.rng.between(5, 50), done, "pg_basebackup: " + why);
      return;
    }
    if (pg.up()) pg.crash("data directory replaced by a clone");
    long ms = w.rng.between(1_500, 6_000);
    k.later(ms * 1000, () -> {
      String late = cloneRefusal(src, withSlot);
      if (late != null) {
        done.done("pg_basebackup: " + late, null);
        return;
      }
      if (pg.status != SimPg.Status.STOPPED) pg.crash("data directory replaced by a clone");
      RejoinInfo info = null;
      if (pg.initialized && pg.tl != null && src.tl != null) {
        List<Commit> lost = Wal.missingFrom(pg.tl, pg.flushed, src.tl, src.flushed);
        long fork = pg.tl.sysid == src.tl.sysid ? Wal.commonPoint(pg.tl, pg.flushed, src.tl) : 0;
        long bytes = Math.max(0, pg.flushed - fork);
        if (rejoin != null) {
          info = rejoin.make("pg_basebackup", bytes, pg.timeline(), src.timeline());
          pg.rejoinNote = info;
          k.discarded(lost, "pg_basebackup@node" + k.node.nodeId + " " + rs.stamp() + " (" + bytes + " bytes)",
              rs.stamp());
        } else {
          k.discarded(lost, "clone into a used data directory@node" + k.node.nodeId, null);
        }
      }
      pg.initialized = true;
      pg.sysid = src.sysid;
      pg.tl = src.tl;
      pg.flushed = pg.written = src.flushed;
      pg.replayed = 0;
      pg.checkpointTli = src.checkpointTli;
      pg.cleanShutdown = false;
      pg.brokenByRewind = false;
      pg.slots.clear();
      pg.syncNames = "";
      pg.readOnlyDefault = false;
      pg.standbySignal = true;
      pg.upstreamCfg = src.id();
      pg.ffMode = false;
      k.traceStep("cloned from node " + src.id() + " at " + src.tl + " " + Long.toHexString(src.flushed));
      done.done(null, info);
    });
  }

  private String cloneRefusal(SimPg src, boolean withSlot) {
    if (!w.net.open(k.node.host, src.node.host)) return "could not connect to the server";
    if (!src.answering()) return "the source does not answer";
    if (withSlot && !src.slots.contains(k.node.nodeId)) {
      return "replication slot \"pgwarden_" + k.node.nodeId + "\" does not exist";
    }
    return null;
  }

  interface RejoinInfoFactory {
    RejoinInfo make(String method, long bytes, int fromTli, int toTli);
  }

  private void rewindOrClone(SimKeeper.StepDone done) {
    SimPg src = upstreamPg();
    if (src == null) {
      after(5, done, "rewind: no upstream");
      return;
    }
    RejoinInfoFactory rf = (m, b, from, to) -> new RejoinInfo(rs.stamp(), m, b, from, to);
    // the source first: same system, a primary, and checkpointed since its promotion
    k.later(w.rng.between(5, 30) * 1000, () -> {
      if (!w.net.open(k.node.host, src.node.host) || !src.answering()) {
        done.done("rewind: the source does not answer", null);
        return;
      }
      if (src.inRecovery) {
        done.done("rewind: the source is in recovery", null);
        return;
      }
      if (src.checkpointTli < src.timeline()) src.checkpoint(); // asks it to CHECKPOINT first
      boolean[] stopped = new boolean[1];
      pg.stopFast(err -> k.later(0, () -> {
        if (stopped[0]) return;
        stopped[0] = true;
        afterStop(src, rf, done);
      }));
      k.later(10_000_000L, () -> {
        if (stopped[0]) return;
        stopped[0] = true;
        done.done("rewind: the local server does not stop", null);
      });
    });
  }

  private void afterStop(SimPg src, RejoinInfoFactory rf, SimKeeper.StepDone done) {
    if (!pg.initialized || pg.tl == null || pg.sysid != src.sysid) {
      clone(false, done, rf);
      return;
    }
    if (Wal.isPrefix(pg.tl, pg.flushed, src.tl, src.flushed)) {
      pg.writeStandbySetup(src.id(), false);
      pg.slots.clear();
      // a retried transition finds the rewind already done: it reports the rewind the note in the data
      // directory remembers, not "none", or the bytes that rewind discarded would never be journaled
      io.pgwarden.model.RejoinInfo note = pg.rejoinNote;
      done.done(null, note != null && note.stamp().equals(rs.stamp()) ? note
          : rf.make("none", 0, pg.timeline(), src.timeline()));
      return;
    }
    if (pg.cleanShutdown && !w.cfg.pg().walKeep()) {
      k.traceStep("pg_rewind: could not find previous WAL record (clean shutdown after the fork): clone");
      clone(false, done, rf);
      return;
    }
    long ms = w.rng.between(300, 700);
    k.later(ms * 1000, () -> {
      if (!w.net.open(k.node.host, src.node.host) || !src.answering()) {
        done.done("pg_rewind: could not connect to the source", null);
        return;
      }
      long fork = Wal.commonPoint(pg.tl, pg.flushed, src.tl);
      long bytes = Math.max(0, pg.flushed - fork);
      int fromTli = pg.timeline();
      List<Commit> lost = Wal.missingFrom(pg.tl, pg.flushed, src.tl, src.flushed);
      k.discarded(lost, "pg_rewind@node" + k.node.nodeId + " " + rs.stamp() + " (" + bytes + " bytes)", rs.stamp());
      pg.tl = src.tl;
      pg.flushed = pg.written = src.flushed;
      pg.cleanShutdown = false;
      pg.checkpointTli = src.checkpointTli;
      pg.brokenByRewind = src.checkpointTli < src.timeline();
      pg.writeStandbySetup(src.id(), false);
      pg.slots.clear();
      pg.syncNames = "";
      k.traceStep("pg_rewind from node " + src.id() + ": discarded " + bytes + " bytes, " + lost.size()
          + " commit(s)");
      RejoinInfo info = rf.make("pg_rewind", bytes, fromTli, src.timeline());
      pg.rejoinNote = info;
      done.done(null, info);
    });
  }
}
