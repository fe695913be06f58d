package io.loomkv.net.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.controller.proto.ControllerCommand;
import io.loomkv.core.shard.controller.proto.ControllerReply;
import io.loomkv.core.shard.controller.proto.ReplaceReplica;
import io.loomkv.net.client.KvClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replica moves on real stores (docs/shard-controller.md, "Moving a replica"): the controller's
 * ReplaceReplica moves group 1's replica off the store leading it to store 4 while a client
 * writes; the leader hands over, store 4 joins as a learner, catches up through a snapshot and
 * becomes a voter in one joint change that removes the old store, which then drops the group's
 * data (and does not bring it back when restarted). Every acknowledged write is read back. Bad
 * moves are refused with a clear reason and make no configuration.
 */
class StoreReplicaMoveTest {
    private static final long GROUP = 1;

    @TempDir
    Path dir;

    @Test
    void moveTheLeadersReplicaToANewStoreUnderWritesLosesNothing() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 4, 100, 1).withReplicasPerGroup(3).startAll()) {
            Store leader = cluster.awaitLeader(GROUP);
            long from = leader.storeId();
            assertFalse(cluster.node(4).groups().contains(GROUP), "store 4 starts without group 1");
            List<Long> expected = new ArrayList<>(List.of(1L, 2L, 3L));
            expected.set(expected.indexOf(from), 4L);
            try (KvClient client = cluster.client(); KvClient writerClient = cluster.client();
                    SequentialWriter writer = new SequentialWriter(writerClient)) {
                writer.awaitMore(300, "300 writes before the move");

                ControllerReply moved = client.controller(replace(GROUP, from, 4));
                assertEquals("", moved.getError());
                assertEquals(expected, SlotLayout.fromProto(moved.getConfig()).replicas(GROUP));
                LocalCluster.awaitCondition(() -> "store 4 a voter of group 1 and store " + from + " gone: store 4 hosts "
                                + cluster.node(4).groups() + " voters " + cluster.node(4).voters(GROUP) + ", store " + from
                                + " hosts " + cluster.node(from).groups(),
                        () -> cluster.node(4).voters(GROUP).equals(expected.stream().sorted().toList())
                                && !cluster.node(from).groups().contains(GROUP));
                writer.awaitMore(200, "200 writes after the move");
                int total = writer.stop();
                SequentialWriter.assertEveryWriteReadBack(client, total);
                Store newLeader = cluster.awaitLeader(GROUP);
                assertTrue(expected.contains(newLeader.storeId()), "leader " + newLeader.storeId());
                LocalCluster.awaitCondition("store 4 applied what the leader did",
                        () -> cluster.node(4).appliedIndex(GROUP) >= newLeader.appliedIndex(GROUP) - 1
                                && cluster.node(4).engineKeyCount(GROUP) == newLeader.engineKeyCount(GROUP));
                assertTrue(cluster.node(4).engineKeyCount(GROUP) >= total, "store 4 holds " + cluster.node(4).engineKeyCount(GROUP));
                assertFalse(Files.exists(cluster.node(from).config().dataDirectory().resolve("engine").resolve("group-" + GROUP)));

                // The old store restarts without bringing the group back.
                cluster.stop(from);
                cluster.start(from);
                // At once (a start that created it from the creation layout would show it now), and a while later.
                assertFalse(cluster.node(from).groups().contains(GROUP), "store " + from + " hosts " + cluster.node(from).groups());
                Thread.sleep(2_000);
                assertFalse(cluster.node(from).groups().contains(GROUP), "store " + from + " hosts " + cluster.node(from).groups());
                assertEquals(expected.stream().sorted().toList(), cluster.awaitLeader(GROUP).voters(GROUP));
            }
        }
    }

    @Test
    void badMovesAreRefusedAndChangeNothing() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 4, 10_000, 1).withReplicasPerGroup(3).startAll()) {
            cluster.awaitLeader(GROUP);
            try (KvClient client = cluster.client()) {
                long version = client.config(-1).getConfig().getVersion();
                assertTrue(client.controller(replace(GROUP, 1, 2)).getError().contains("store 2 already hosts a replica of group 1"));
                assertTrue(client.controller(replace(7, 1, 4)).getError().contains("group 7 is not in configuration"));
                assertTrue(client.controller(replace(GROUP, 4, 1)).getError().contains("store 4 hosts no replica of group 1"));
                assertTrue(client.controller(replace(GROUP, 1, 9)).getError().contains("store 9 is not a member of the cluster"));
                assertEquals(version, client.config(-1).getConfig().getVersion());
                Thread.sleep(1_000);
                assertFalse(cluster.node(4).groups().contains(GROUP));
                assertEquals(List.of(1L, 2L, 3L), cluster.awaitLeader(GROUP).voters(GROUP));
            }
        }
    }

    /**
     * The rate limit: three groups' replicas move to store 5 at once while store 5's replies are
     * cut off, so no learner there can catch up. Store 5 fills two of them and creates no replica
     * of the third; once its replies flow again, all three moves finish and nothing is lost.
     */
    @Test
    void aStoreFillsAtMostTwoMovedReplicasAtOnce() throws Exception {
        // Groups 1 {1,2}, 2 {2,3}, 3 {3,4}; store 5 hosts none.
        try (LocalCluster cluster = new LocalCluster(dir, 5, 10_000, 3).withReplicasPerGroup(2).startAll()) {
            cluster.awaitLeaders();
            Store five = cluster.node(5);
            try (KvClient client = cluster.client()) {
                for (long group = 1; group <= 3; group++) {
                    assertFalse(client.put(cluster.keyIn(group, "before"), "value" + group), "a new key");
                }
                five.peerFaults().block(java.util.Set.of(1L, 2L, 3L, 4L));
                for (long group = 1; group <= 3; group++) {
                    assertEquals("", client.controller(replace(group, group, 5)).getError());
                }
                LocalCluster.awaitCondition(() -> "store 5 filling two moved replicas: hosts " + five.groups(),
                        () -> incoming(five) == 2);
                long until = System.nanoTime() + Duration.ofSeconds(3).toNanos();
                while (System.nanoTime() < until) {
                    assertEquals(2, incoming(five), "store 5 hosts " + five.groups());
                    assertEquals(2, five.groups().stream().filter(g -> g != 0).count(), "store 5 hosts " + five.groups());
                    Thread.sleep(20);
                }
                five.peerFaults().heal();
                LocalCluster.awaitCondition(() -> "every move done: store 5 hosts " + five.groups() + " with voters "
                                + five.voters(1) + five.voters(2) + five.voters(3),
                        () -> java.util.stream.LongStream.rangeClosed(1, 3).allMatch(
                                g -> five.voters(g).contains(5L) && !cluster.node(g).groups().contains(g)));
                for (long group = 1; group <= 3; group++) {
                    assertEquals(Optional.of("value" + group), client.get(cluster.keyIn(group, "before")));
                }
            }
        }
    }

    /**
     * A follower's replica moves away and back: the store that left drops its removed replica and,
     * named again, gets a new one filled by the leader (its old data is not reused), as a voter
     * holding every key.
     */
    @Test
    void aReplicaMovesAwayAndBack() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 4, 10_000, 1).withReplicasPerGroup(3).startAll()) {
            Store leader = cluster.awaitLeader(GROUP);
            long follower = leader.storeId() == 3 ? 2 : 3;
            try (KvClient client = cluster.client()) {
                for (int i = 0; i < 50; i++) {
                    client.put("key" + i, "value" + i);
                }
                assertEquals("", client.controller(replace(GROUP, follower, 4)).getError());
                LocalCluster.awaitCondition(() -> "store " + follower + " gone from group 1: it hosts " + cluster.node(follower).groups(),
                        () -> !cluster.node(follower).groups().contains(GROUP) && cluster.node(4).voters(GROUP).contains(4L));
                for (int i = 50; i < 100; i++) {
                    client.put("key" + i, "value" + i);
                }
                assertEquals("", client.controller(replace(GROUP, 4, follower)).getError());
                LocalCluster.awaitCondition(() -> "store " + follower + " back in group 1: voters "
                                + cluster.node(follower).voters(GROUP) + ", store 4 hosts " + cluster.node(4).groups(),
                        () -> cluster.node(follower).voters(GROUP).equals(List.of(1L, 2L, 3L)) && !cluster.node(4).groups().contains(GROUP));
                Store now = cluster.awaitLeader(GROUP);
                LocalCluster.awaitCondition("store " + follower + " holds every key",
                        () -> cluster.node(follower).engineKeyCount(GROUP) == now.engineKeyCount(GROUP));
                for (int i = 0; i < 100; i++) {
                    assertEquals(Optional.of("value" + i), client.get("key" + i), "key" + i);
                }
            }
        }
    }

    /** Replicas of data groups on {@code store} in which it is not a voter yet. */
    private static long incoming(Store store) {
        return store.groups().stream().filter(g -> g != 0 && !store.voters(g).contains(store.storeId())).count();
    }

    private static ControllerCommand replace(long group, long from, long to) {
        return ControllerCommand.newBuilder().setReplaceReplica(ReplaceReplica.newBuilder().setGroupId(group)
                .setFromStore(from).setToStore(to)).build();
    }
}
