package io.pgwarden.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgwarden.model.Lsn;
import io.pgwarden.model.NodeAddress;
import io.pgwarden.model.NodeEvent;
import io.pgwarden.model.NodeSettings;
import io.pgwarden.model.NodeState;
import io.pgwarden.model.RejoinInfo;
import io.pgwarden.model.TermSeq;
import io.pgwarden.persistence.JournalStore;
import io.pgwarden.persistence.read.EventLog;
import io.pgwarden.testing.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.Test;

/** A NodeActor journals a node's lifecycle, and only what changes it, on H2 and on PostgreSQL. */
class NodeActorTest {

  @Test
  void h2() throws Exception {
    Path dir = Files.createTempDirectory("pgw-node");
    try {
      lifecycle(JournalStore.h2File(dir.resolve("j")));
    } finally {
      TestPostgres.deleteTree(dir);
    }
  }

  @Test
  void postgres() {
    try (TestPostgres pg = TestPostgres.start("node")) {
      lifecycle(new JournalStore(pg.jdbcUrl(), "postgres", ""));
    }
  }

  private void lifecycle(JournalStore store) {
    store.createSchema();
    ActorTestKit kit = ActorTestKit.create("node1", store.pekkoConfig());
    long t = 1_000;
    TermSeq s = new TermSeq(2, 5);
    try {
      var node = kit.spawn(NodeActor.create("f", 3));
      var probe = kit.<NodeActor.State>createTestProbe();
      var reg = new NodeEvent.Registered("f", 3, "c", new NodeAddress("127.0.0.1", 5433), NodeSettings.DEFAULT, t);
      node.tell(new NodeActor.Observe(reg));
      node.tell(new NodeActor.Observe(reg));
      for (int i = 0; i < 20; i++) {
        node.tell(new NodeActor.Observe(new NodeEvent.StateReached(NodeState.SECONDARY, s, 1, Lsn.parse("0/100"), t)));
        node.tell(new NodeActor.Observe(new NodeEvent.HealthChanged(true, "keeper-report", "healthy", t)));
      }
      node.tell(new NodeActor.Observe(new NodeEvent.HealthChanged(false, "controller-probe", "refused", t)));
      node.tell(new NodeActor.Observe(new NodeEvent.StateReached(NodeState.CATCHINGUP, s, 1, Lsn.parse("0/100"), t)));
      var rewind = new NodeEvent.Rewound(new RejoinInfo(s, "pg_rewind", 4096, 1, 2), t);
      node.tell(new NodeActor.Observe(rewind));
      node.tell(new NodeActor.Observe(rewind));
      node.tell(new NodeActor.Observe(new NodeEvent.Fenced(2, t)));
      node.tell(new NodeActor.Observe(new NodeEvent.Fenced(2, t)));
      node.tell(new NodeActor.Get(probe.getRef()));
      NodeActor.State st = probe.receiveMessage(Duration.ofSeconds(20));
      assertEquals(7, st.events(), "registered, secondary, healthy, unhealthy, catchingup, rewound, fenced: " + st);
      assertEquals(NodeState.CATCHINGUP, st.reached());
    } finally {
      kit.shutdownTestKit();
    }
    try (EventLog log = new EventLog(store)) {
      var events = log.byPersistenceId(NodeActor.persistenceId("f", 3));
      assertEquals(7, events.size());
      assertTrue(events.stream().allMatch(e -> e.event() instanceof NodeEvent));
    }
    ActorTestKit again = ActorTestKit.create("node2", store.pekkoConfig());
    try {
      var node = again.spawn(NodeActor.create("f", 3));
      var probe = again.<NodeActor.State>createTestProbe();
      node.tell(new NodeActor.Observe(new NodeEvent.StateReached(NodeState.CATCHINGUP, s, 1, Lsn.parse("0/100"), t)));
      node.tell(new NodeActor.Get(probe.getRef()));
      assertEquals(7, probe.receiveMessage(Duration.ofSeconds(20)).events(), "recovered state dedups too");
    } finally {
      again.shutdownTestKit();
    }
  }
}
