package io.pgwarden.model;

/**
 * The standby's pg_stat_wal_receiver row. {@code upstreamNodeId} is the node the sender host/port maps
 * to; {@code lastMsgAgeMs} is the age of the last message received, computed on the standby's own clock.
 */
public record WalReceiverInfo(
    String status, Integer upstreamNodeId, String senderHost, int senderPort, int receivedTimeline,
    Long lastMsgAgeMs) {

  public boolean streaming() {
    return "streaming".equals(status);
  }
}
