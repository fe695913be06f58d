package io.loomkv.net.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.loomkv.net.node.ShardMoves.assertAllPresent;
import static io.loomkv.net.node.ShardMoves.awaitSettled;
import static io.loomkv.net.node.ShardMoves.configure;
import static io.loomkv.net.node.ShardMoves.fill;
import static io.loomkv.net.node.ShardMoves.join;
import static io.loomkv.net.node.ShardMoves.leave;

import io.loomkv.core.kv.proto.SlotOwnershipState;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.Slots;
import io.loomkv.core.shard.controller.proto.ControllerReply;
import io.loomkv.net.client.KvClient;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Slots move between groups of real stores as the shard controller's configuration changes (the
 * MIT 6.824 Lab 4B sharded key-value scenarios, by name): every key keeps its value through
 * joins and leaves, writes running during the moves are applied exactly once, and a group that
 * handed its slots off keeps none of their keys. The scenarios with an unreliable network, stores
 * restarted through repeated changes, or a whole source group down are in
 * {@link StoreShardKvFaultTest}.
 */
class StoreShardKvTest {

    @TempDir
    Path dir;

    /** 6.824 4B "TestStaticShards": with no configuration change, each group serves its own keys. */
    @Test
    void staticShards() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, 10_000, 2).startAll()) {
            cluster.awaitLeaders();
            try (KvClient client = cluster.client()) {
                Map<String, String> expected = fill(client, 100, "s");
                assertAllPresent(client, expected);
                // A group placed on a store the cluster does not have is refused, and makes no configuration.
                ControllerReply unknown = client.controller(join(3, 1, 9));
                assertTrue(unknown.getError().contains("store 9, which is not a member"), unknown.getError());
                assertEquals(1, client.config(-1).getConfig().getVersion());
            }
            for (long group : List.of(1L, 2L)) {
                SlotOwnershipState ownership = cluster.awaitLeader(group).slotOwnership(group);
                assertEquals(1, ownership.getConfigNumber());
                assertEquals(0, ownership.getMovingCount());
            }
        }
    }

    /** 6.824 4B "TestJoinLeave": a group joins and takes its share of the slots, another leaves; nothing is lost. */
    @Test
    void joinLeave() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, 10_000, 1).startAll()) {
            cluster.awaitLeaders();
            try (KvClient client = cluster.client()) {
                Map<String, String> expected = fill(client, 300, "a");
                long joined = configure(client, join(2));
                awaitSettled(cluster, joined, List.of(1L, 2L));
                assertAllPresent(client, expected);
                SlotLayout layout = SlotLayout.fromProto(client.config(joined).getConfig());
                assertEquals(Slots.SLOT_COUNT / 2, layout.slotsOf(2).size(), "the new group took half the slots");

                expected.putAll(fill(client, 100, "b"));
                long left = configure(client, leave(1));
                awaitSettled(cluster, left, List.of(1L, 2L));
                assertAllPresent(client, expected);
                // 6.824 "Challenge1Delete": the group that left keeps no key of the slots it handed off.
                for (long store = 1; store <= 3; store++) {
                    long storeId = store;
                    LocalCluster.awaitCondition("store " + store + " deletes group 1's moved keys",
                            () -> cluster.node(storeId).engineKeyCount(1) == 0);
                }
            }
        }
    }

    /**
     * 6.824 4B "TestSnapshot": with snapshots every few entries, groups join and leave; then every
     * store restarts and recovers the data and the slot ownership from its snapshots and log.
     */
    @Test
    void snapshot() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, 20, 1).startAll()) {
            cluster.awaitLeaders();
            Map<String, String> expected;
            long config;
            try (KvClient client = cluster.client()) {
                expected = fill(client, 200, "snap");
                config = configure(client, join(2));
                awaitSettled(cluster, config, List.of(1L, 2L));
                config = configure(client, join(3));
                awaitSettled(cluster, config, List.of(1L, 2L, 3L));
                expected.putAll(fill(client, 100, "more"));
                config = configure(client, leave(2));
                awaitSettled(cluster, config, List.of(1L, 2L, 3L));
            }
            assertTrue(cluster.node(1).snapshotIndex(1) > 0, "group 1 took snapshots along the way");
            for (long store = 1; store <= 3; store++) {
                cluster.stop(store);
            }
            for (long store = 1; store <= 3; store++) {
                cluster.start(store);
            }
            awaitSettled(cluster, config, List.of(1L, 2L, 3L));
            try (KvClient client = cluster.client()) {
                assertAllPresent(client, expected);
            }
        }
    }

    /**
     * 6.824 4B "TestMissChange": a store is down while a group joins and another leaves; when it
     * comes back its replicas catch up (the joined group's included) and nothing is lost.
     */
    @Test
    void missChange() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, 10_000, 1).startAll()) {
            cluster.awaitLeaders();
            try (KvClient client = cluster.client()) {
                Map<String, String> expected = fill(client, 150, "miss");
                cluster.stop(3);
                long config = configure(client, join(2));
                awaitSettled(cluster, config, List.of(1L, 2L));
                expected.putAll(fill(client, 50, "while-down"));
                cluster.start(3);
                config = configure(client, leave(1));
                awaitSettled(cluster, config, List.of(1L, 2L));
                assertAllPresent(client, expected);
                LocalCluster.awaitCondition("store 3 hosts the joined group and catches up", () -> {
                    SlotOwnershipState ownership = cluster.node(3).slotOwnership(2);
                    return ownership != null && ownership.getConfigNumber() == 3 && ownership.getMovingCount() == 0;
                });
                cluster.stop(1);
                assertAllPresent(client, expected);
            }
        }
    }

    /**
     * 6.824 4B "TestConcurrent1": clients append while groups join and leave; each append is in its
     * key's final value exactly once (a retry across a move answered from the imported reply, not
     * applied again).
     */
    @Test
    void concurrent1() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, 10_000, 1).startAll()) {
            cluster.awaitLeaders();
            AppendClients appenders = AppendClients.start(cluster, "c1", 4, 5);
            try (KvClient admin = cluster.client()) {
                Thread.sleep(300);
                long config = configure(admin, join(2));
                awaitSettled(cluster, config, List.of(1L, 2L));
                config = configure(admin, join(3));
                awaitSettled(cluster, config, List.of(1L, 2L, 3L));
                config = configure(admin, leave(1));
                awaitSettled(cluster, config, List.of(1L, 2L, 3L));
                appenders.stop();
                assertTrue(appenders.acknowledged() > 0, "the clients wrote during the moves");
                appenders.assertNoUnknownOutcome();
                appenders.check(admin);
            }
        }
    }

    /**
     * 6.824 4B "TestConcurrent2": clients append while groups join and leave and stores restart in
     * the middle of the moves; every acknowledged append is in its key's value exactly once (one whose
     * outcome its client lost, at most once).
     */
    @Test
    void concurrent2() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, 50, 1).startAll()) {
            cluster.awaitLeaders();
            AppendClients appenders = AppendClients.start(cluster, "c2", 3, 4);
            try (KvClient admin = cluster.client()) {
                long config = configure(admin, join(2));
                cluster.stop(2);
                cluster.start(2);
                awaitSettled(cluster, config, List.of(1L, 2L));
                config = configure(admin, join(3));
                cluster.stop(3);
                Thread.sleep(500);
                cluster.start(3);
                awaitSettled(cluster, config, List.of(1L, 2L, 3L));
                config = configure(admin, leave(1));
                cluster.stop(1);
                cluster.start(1);
                awaitSettled(cluster, config, List.of(1L, 2L, 3L));
                appenders.stop();
                assertTrue(appenders.acknowledged() > 0, "the clients wrote during the moves");
                appenders.check(admin);
            }
        }
    }

    /**
     * 6.824 4B "TestChallenge2Unaffected": the group that should receive slots cannot run (one of
     * its two stores is down), so its slots stay frozen at their old owners; every slot that does
     * not move is served all along. Once the store is back the move completes.
     */
    @Test
    void challenge2Unaffected() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 4, 10_000, 2).withReplicasPerGroup(3).startAll()) {
            cluster.awaitLeaders();
            try (KvClient client = cluster.client()) {
                Map<String, String> expected = fill(client, 120, "u");
                SlotLayout before = SlotLayout.fromProto(client.config(-1).getConfig());
                cluster.stop(4);
                ControllerReply joined = client.controller(join(3, 3, 4));
                assertEquals("", joined.getError());
                SlotLayout after = SlotLayout.fromProto(joined.getConfig());
                int unaffected = 0;
                for (Map.Entry<String, String> entry : expected.entrySet()) {
                    int slot = Slots.slotOf(com.google.protobuf.ByteString.copyFromUtf8(entry.getKey()));
                    if (before.groupOf(slot) == after.groupOf(slot)) {
                        assertEquals(entry.getValue(), client.get(entry.getKey()).orElse(null), "key " + entry.getKey());
                        client.put(entry.getKey(), entry.getValue() + "+");
                        entry.setValue(entry.getValue() + "+");
                        unaffected++;
                    }
                }
                assertTrue(unaffected > 30, unaffected + " keys in slots that stay");
                SlotOwnershipState stuck = cluster.node(3).slotOwnership(3);
                assertTrue(stuck == null || stuck.getMovingCount() > 0 || stuck.getConfigNumber() < joined.getConfig().getVersion(),
                        "group 3 cannot have its slots without a quorum: " + stuck);
                cluster.start(4);
                awaitSettled(cluster, joined.getConfig().getVersion(), List.of(1L, 2L, 3L));
                assertAllPresent(client, expected);
            }
        }
    }
}
