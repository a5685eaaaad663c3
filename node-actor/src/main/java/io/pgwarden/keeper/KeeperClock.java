package io.pgwarden.keeper;

/**
 * The keeper shell's two clocks, in milliseconds: monotonic ({@code System.nanoTime()/1e6}) and wall
 * ({@code System.currentTimeMillis()}). The step function gets both with every event; the executor
 * compares {@code notAfterMono} with the same monotonic clock.
 */
public interface KeeperClock {
  long monoMs();

  long wallMs();

  KeeperClock SYSTEM = new KeeperClock() {
    @Override
    public long monoMs() {
      return System.nanoTime() / 1_000_000;
    }

    @Override
    public long wallMs() {
      return System.currentTimeMillis();
    }
  };
}
