package io.pgwarden.keeper;

/**
 * One thing a transition does to the local PostgreSQL. Steps are data: the transition planner lists
 * them, the executor maps each onto the PostgreSQL operations (io.pgwarden.keeper.pg) and runs them in
 * order; every step must be idempotent, because a failed transition is retried from its first step.
 *
 * <p>Two steps are <em>gates</em>, never sent to the executor: the keeper's step function holds the
 * transition there until it may go on ({@link RequireLease}, {@link ConfirmPermit}). Everything after a
 * gate may open writes or promote, so it only runs while this keeper holds the authority the gate
 * checked.
 *
 * <p>Runtime parameters (the upstream to follow, the quorum to apply, the fast-forward target) are not
 * part of a step: they travel in the {@link StepContext} of the RunSteps action, taken from the
 * controller's latest reply.
 */
public sealed interface Step {

  /** Short label used in the planner's printed table and in logs. */
  String label();

  /** True for steps the keeper's step function resolves itself. */
  default boolean isGate() {
    return false;
  }

  // ------------------------------------------------------------------ gates

  /**
   * Go on only while this keeper holds a valid write lease, with no failsafe promise outstanding.
   * Precedes every step that starts a writable PostgreSQL or promotes.
   */
  record RequireLease() implements Step {
    public String label() {
      return "[gate: lease]";
    }

    public boolean isGate() {
      return true;
    }
  }

  /**
   * Report to the controller and go on only if the answer, sent after this point, still says
   * stop_replication with a permit that has not run out; never while a failsafe promise is outstanding.
   */
  record ConfirmPermit() implements Step {
    public String label() {
      return "[gate: permit]";
    }

    public boolean isGate() {
      return true;
    }
  }

  // ------------------------------------------------------------------ building and configuring

  /** initdb when the data directory is empty; refuse when a PostgreSQL the keeper does not own runs there. */
  record InitDb() implements Step {
    public String label() {
      return "initdb if empty";
    }
  }

  /** pgwarden's PostgreSQL settings, its roles and HBA entries for the controller and replication. */
  record ConfigureInstance() implements Step {
    public String label() {
      return "configure instance";
    }
  }

  /** Create the formation's database (StepContext.dbname) when missing. */
  record CreateDatabase() implements Step {
    public String label() {
      return "create database";
    }
  }

  /** Where a clone is taken from: the primary through this node's slot, or a standby without one. */
  enum CloneSource {
    PRIMARY_WITH_SLOT,
    STANDBY_WITHOUT_SLOT
  }

  /** pg_basebackup from StepContext.upstream into an empty data directory, then install it. */
  record Clone(CloneSource source) implements Step {
    public String label() {
      return source == CloneSource.PRIMARY_WITH_SLOT ? "clone from primary" : "clone from standby";
    }
  }

  /**
   * Make a former primary (or diverged standby) a copy of StepContext.upstream: stop, pg_rewind, falling
   * back to a fresh clone; nothing when it has not diverged. The executor returns how it rejoined.
   */
  record RewindOrClone() implements Step {
    public String label() {
      return "rewind or clone";
    }
  }

  // ------------------------------------------------------------------ the postmaster

  record Start() implements Step {
    public String label() {
      return "start";
    }
  }

  enum StopMode {
    /** Clean: waits for walsenders to send everything, ends with a shutdown checkpoint. */
    FAST
  }

  record Stop(StopMode mode) implements Step {
    public String label() {
      return "stop (" + mode.name().toLowerCase(java.util.Locale.ROOT) + ")";
    }
  }

  record Checkpoint() implements Step {
    public String label() {
      return "checkpoint";
    }
  }

  // ------------------------------------------------------------------ replication

  /** Where a standby streams from. */
  enum Upstream {
    /** StepContext.upstream, the primary, through this node's slot. */
    PRIMARY,
    /** Nobody: the WAL position freezes (standby.signal stays, so it never starts writable). */
    NONE,
    /** StepContext.upstream, the most advanced standby, recovering up to StepContext.fastForwardTo. */
    FAST_FORWARD_SOURCE
  }

  /** standby.signal plus primary_conninfo/slot/targets; applied by reload, or restart if PostgreSQL needs one. */
  record WriteStandbySetup(Upstream upstream) implements Step {
    public String label() {
      return "standby setup: " + upstream.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ');
    }
  }

  /** Remove standby.signal and the standby settings, as a primary-to-be. */
  record RemoveStandbySetup() implements Step {
    public String label() {
      return "remove standby setup";
    }
  }

  /** Wait until replay reaches StepContext.fastForwardTo. */
  record AwaitReplay() implements Step {
    public String label() {
      return "await replay of target";
    }
  }

  /** The local timeline equals the upstream's (IDENTIFY_SYSTEM on it). */
  record VerifyTimeline() implements Step {
    public String label() {
      return "verify timeline";
    }
  }

  /** pg_promote, re-sent every ~100 ms until out of recovery (a stalled promote ends at the re-send); no fixed sleep; a no-op on a primary. */
  record Promote() implements Step {
    public String label() {
      return "promote";
    }
  }

  enum SyncNames {
    /** '' : commits wait for nobody. */
    EMPTY,
    /** StepContext.syncStandbyNames, as the controller computed it. */
    FROM_CONTROLLER
  }

  record SetSyncStandbyNames(SyncNames value) implements Step {
    public String label() {
      return value == SyncNames.EMPTY ? "sync names ''" : "sync names from controller";
    }
  }

  /** Cancel backends stuck waiting for synchronous replication (their commits are local already). */
  record CancelSyncRepWaiters() implements Step {
    public String label() {
      return "cancel sync-rep waiters";
    }
  }

  /** Wait until a synchronous walsender has flushed the WAL position current when the step began. */
  record AwaitSyncStandbys() implements Step {
    public String label() {
      return "await sync standby";
    }
  }

  /**
   * default_transaction_read_only. Not a fence (any session may override it); it keeps clients of
   * target_session_attrs=read-write away from a node that is promoted but not yet allowed to write.
   */
  record SetDefaultReadOnly(boolean on) implements Step {
    public String label() {
      return "read-only default " + (on ? "on" : "off");
    }
  }

  /** Slots and HBA entries for StepContext.peers: create, advance, drop the ones of removed nodes. */
  record MaintainPeers() implements Step {
    public String label() {
      return "maintain peer slots+hba";
    }
  }

  /** Drop every local replication slot (a former primary's slots hold stale xmin). */
  record DropLocalSlots() implements Step {
    public String label() {
      return "drop local slots";
    }
  }

  // ------------------------------------------------------------------ shared instances

  Step REQUIRE_LEASE = new RequireLease();
  Step CONFIRM_PERMIT = new ConfirmPermit();
  Step INIT_DB = new InitDb();
  Step CONFIGURE = new ConfigureInstance();
  Step CREATE_DATABASE = new CreateDatabase();
  Step START = new Start();
  Step STOP = new Stop(StopMode.FAST);
  Step CHECKPOINT = new Checkpoint();
  Step PROMOTE = new Promote();
  Step REMOVE_STANDBY_SETUP = new RemoveStandbySetup();
  Step FOLLOW_PRIMARY = new WriteStandbySetup(Upstream.PRIMARY);
  Step NO_UPSTREAM = new WriteStandbySetup(Upstream.NONE);
  Step FOLLOW_FAST_FORWARD_SOURCE = new WriteStandbySetup(Upstream.FAST_FORWARD_SOURCE);
  Step SYNC_OFF = new SetSyncStandbyNames(SyncNames.EMPTY);
  Step SYNC_FROM_CONTROLLER = new SetSyncStandbyNames(SyncNames.FROM_CONTROLLER);
  Step CANCEL_SYNC_WAITERS = new CancelSyncRepWaiters();
  Step AWAIT_SYNC_STANDBYS = new AwaitSyncStandbys();
  Step READ_ONLY_ON = new SetDefaultReadOnly(true);
  Step READ_ONLY_OFF = new SetDefaultReadOnly(false);
  Step MAINTAIN_PEERS = new MaintainPeers();
  Step DROP_LOCAL_SLOTS = new DropLocalSlots();
  Step VERIFY_TIMELINE = new VerifyTimeline();
  Step AWAIT_REPLAY = new AwaitReplay();
  Step REWIND_OR_CLONE = new RewindOrClone();
  Step CLONE_FROM_PRIMARY = new Clone(CloneSource.PRIMARY_WITH_SLOT);
  Step CLONE_FROM_STANDBY = new Clone(CloneSource.STANDBY_WITHOUT_SLOT);
}
