package io.pgwarden.controller.actor;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * Pekko's ask returns Scala's CompletionStage, whose non-async methods run asynchronously on the common
 * ForkJoinPool; on a 2-core machine that pool has parallelism 1 and Java then starts a new thread for
 * every task. Asks are converted here into plain futures, completed on the replying thread, so that
 * the short continuations of the service run inline.
 */
final class Asks {
  private Asks() {}

  static <T> CompletableFuture<T> plain(CompletionStage<T> s) {
    CompletableFuture<T> out = new CompletableFuture<>();
    s.whenCompleteAsync((v, e) -> {
      if (e == null) {
        out.complete(v);
      } else {
        out.completeExceptionally(e instanceof CompletionException && e.getCause() != null ? e.getCause() : e);
      }
    }, Runnable::run);
    return out;
  }
}
