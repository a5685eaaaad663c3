/**
 * The keeper's pure core: {@link io.pgwarden.keeper.TransitionPlanner} (which steps take PostgreSQL
 * from one state to another) and {@link io.pgwarden.keeper.KeeperStep} (the step function that turns
 * events into actions, and holds the write lease, the promotion permit and the failsafe). No clocks,
 * no I/O: the actor shell and the simulator feed it time and events. See docs/keeper.md.
 */
package io.pgwarden.keeper;
