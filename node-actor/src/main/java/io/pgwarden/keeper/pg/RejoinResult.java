package io.pgwarden.keeper.pg;

import io.pgwarden.model.Lsn;
import io.pgwarden.model.RejoinInfo;
import io.pgwarden.model.TermSeq;

/**
 * How a node became a standby of a new primary.
 *
 * @param method "pg_rewind", "pg_basebackup" (a fallback, or a different system) or "none" (nothing to rewind)
 * @param bytesDiscarded WAL the old timeline had past the fork point ({@code oldEnd - forkLsn}, at least 0);
 *     -1 when unknown (the fork point could not be determined)
 * @param oldEnd the end of the local WAL before the rejoin: the shutdown checkpoint's location after a
 *     clean stop (or after pgwarden's own crash recovery), or the last LSN seen running, whichever is larger
 * @param forkLsn where the new timeline branched off the local one (from the source's timeline history)
 * @param fallbackReason why pg_rewind was not used, when the method is pg_basebackup
 */
public record RejoinResult(
    String method, long bytesDiscarded, int fromTimeline, int toTimeline, Lsn oldEnd, Lsn forkLsn,
    long elapsedMs, String fallbackReason) {

  public static final String PG_REWIND = "pg_rewind";
  public static final String PG_BASEBACKUP = "pg_basebackup";
  public static final String NONE = "none";

  public RejoinInfo toRejoinInfo(TermSeq stamp) {
    return new RejoinInfo(stamp, method, bytesDiscarded, fromTimeline, toTimeline);
  }
}
