package io.pgwarden.sim;

/**
 * Known bugs the simulator must catch. Three are switched inside the real decision core through
 * {@link io.pgwarden.controller.core.KnownBugs} (off unless a simulation thread turns them on); three are
 * perturbations of the shells around the real cores, made here.
 */
enum Bugs {
  /** The controller opens writes on a promoted node without waiting for the old primary's lease. */
  REOPEN_WRITES_WITHOUT_LEASE_WAIT,
  /** A primary renews its lease through the failsafe as soon as any one standby confirms. */
  RENEW_WITH_ANY_PEER,
  /** The controller journals one event per node's goal instead of one per decision. */
  GOALS_PER_NODE,
  /** The executor begins the steps after a permit (or lease) gate even when their deadline has passed. */
  ACT_ON_EXPIRED_PERMIT,
  /** The controller fails over automatically out of wait_primary. */
  PROMOTE_OUT_OF_WAIT_PRIMARY,
  /** The controller believes a standby's "streaming" without looking at the age of its last message. */
  TRUST_STALE_STREAMING
}
