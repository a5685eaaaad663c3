package io.pgwarden.controller.actor;

import io.pgwarden.controller.core.Now;

/** Where the controller's shell reads time; the decision core is handed what it reads. */
public interface ControllerClock {
  Now now();

  ControllerClock SYSTEM = () -> new Now(System.nanoTime() / 1_000_000, System.currentTimeMillis());
}
