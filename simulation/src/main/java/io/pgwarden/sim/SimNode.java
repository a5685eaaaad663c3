package io.pgwarden.sim;

/** One database host: its keeper, its PostgreSQL, and the formation node id it is registered as. */
final class SimNode {
  final int index;
  final Host host;
  final SimPg pg;
  final SimKeeper keeper;
  int nodeId;
  String name;
  boolean dropped;

  SimNode(World w, int index, Host host) {
    this.index = index;
    this.host = host;
    this.pg = new SimPg(w, this);
    this.keeper = new SimKeeper(w, this);
    this.name = "node" + index;
  }

  @Override
  public String toString() {
    return name + "(id " + nodeId + ")";
  }
}
