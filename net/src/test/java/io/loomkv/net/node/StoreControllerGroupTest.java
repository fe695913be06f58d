package io.loomkv.net.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.ReadConsistency;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.core.shard.GroupIds;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.Slots;
import io.loomkv.core.shard.controller.proto.Bootstrap;
import io.loomkv.core.shard.controller.proto.ControllerCommand;
import io.loomkv.core.shard.controller.proto.ControllerReply;
import io.loomkv.core.shard.controller.proto.JoinGroups;
import io.loomkv.core.shard.controller.proto.LeaveGroups;
import io.loomkv.core.shard.controller.proto.QueryConfig;
import io.loomkv.core.shard.proto.GroupReplicas;
import io.loomkv.core.shard.proto.Layout;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.rpc.RpcClient;
import io.loomkv.net.rpc.RpcClientConfig;
import io.loomkv.net.store.proto.LayoutReply;
import io.loomkv.net.store.proto.LayoutRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shard controller as a Raft group on real stores: group 0 lives on the three lowest-id initial
 * stores, starts from the layout the cluster was created with (configuration 1, written by the
 * stores as the group's first command), carries out Join and Leave exactly once from concurrent
 * clients, answers queries from any replica, and keeps its history through a leader change and a
 * restart. The names follow the 6.824 Lab 4A scenarios that need the replicated controller.
 */
class StoreControllerGroupTest {
    private static final int DATA_GROUPS = 2;

    @TempDir
    Path dir;

    @Test
    void controllerGroupStartsFromTheLayoutOnTheThreeLowestStores() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 4, 10_000, DATA_GROUPS).withReplicasPerGroup(3).startAll()) {
            cluster.awaitLeaders();
            Store controllerLeader = cluster.awaitLeader(GroupIds.CONTROLLER_GROUP_ID);
            assertTrue(controllerLeader.storeId() <= 3, "led by store " + controllerLeader.storeId());
            assertEquals(List.of(0L), cluster.node(1).groups().subList(0, 1));
            assertFalse(cluster.node(4).groups().contains(GroupIds.CONTROLLER_GROUP_ID), "store 4 is not a controller store");
            for (long id = 1; id <= 4; id++) {
                assertEquals(List.of(1L, 2L, 3L), cluster.node(id).controllerStores());
            }
            // A client that only knows store 4 finds the controller through the layout reply.
            try (KvClient client = cluster.client(List.of(4L))) {
                ControllerReply latest = client.config(-1);
                assertEquals("", latest.getError());
                assertEquals(1, latest.getConfig().getVersion());
                assertEquals(cluster.layout(), SlotLayout.fromProto(latest.getConfig()));
                try (RpcClient rpc = new RpcClient(RpcClientConfig.client(LocalCluster.CLUSTER_ID))) {
                    LayoutReply reply = rpc.call(cluster.address(4).clientAddress(), NodeMethods.LAYOUT,
                            LayoutRequest.getDefaultInstance(), Duration.ofSeconds(5)).join();
                    assertEquals(List.of(1L, 2L, 3L), reply.getControllerStoreIdsList());
                }
                // Clients cannot write a bootstrap; the stores wrote the only one.
                ControllerReply bootstrap = client.controller(ControllerCommand.newBuilder()
                        .setBootstrap(Bootstrap.newBuilder().setConfig(latest.getConfig())).build());
                assertTrue(bootstrap.getError().contains("written by the stores"), bootstrap.getError());
                ControllerReply discarded = client.config(0);
                assertTrue(discarded.getError().contains("start at 1"), discarded.toString());
                // Data groups still serve keys as before.
                assertFalse(client.put("k", "v"), "a new key");
                assertEquals("v", client.get("k").orElseThrow());
            }
        }
    }

    /** 6.824 4A "Concurrent leave/join" and "Concurrent multi leave/join", through the replicated controller. */
    @Test
    void concurrentJoinLeave() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, 10_000, DATA_GROUPS).startAll()) {
            cluster.awaitLeaders();
            int clients = 6;
            ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
            List<Future<List<String>>> results = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                long single = 100 + i;
                long pairFirst = 200 + 2L * i;
                boolean leaves = i % 2 == 0;
                Callable<List<String>> work = () -> {
                    List<String> errors = new ArrayList<>();
                    try (KvClient client = cluster.client()) {
                        errors.add(client.controller(join(single)).getError());
                        errors.add(client.controller(join(pairFirst, pairFirst + 1)).getError());
                        if (leaves) {
                            errors.add(client.controller(leave(single, pairFirst)).getError());
                        }
                    }
                    return errors;
                };
                results.add(pool.submit(work));
            }
            TreeSet<Long> expected = new TreeSet<>(List.of(1L, 2L));
            for (int i = 0; i < clients; i++) {
                for (String error : results.get(i).get()) {
                    assertEquals("", error);
                }
                if (i % 2 != 0) {
                    expected.add(100L + i);
                    expected.add(200L + 2L * i);
                }
                expected.add(200L + 2L * i + 1);
            }
            pool.close();
            try (KvClient client = cluster.client()) {
                Layout latest = client.config(-1).getConfig();
                // One configuration per Join and Leave, each made exactly once.
                assertEquals(1 + 2 * clients + clients / 2, latest.getVersion());
                assertBalancedOver(expected, latest);
                // Every historical configuration is still there, numbered without gaps.
                for (long n = 1; n <= latest.getVersion(); n++) {
                    assertEquals(n, client.config(n).getConfig().getVersion());
                }
            }
        }
    }

    /**
     * 6.824 4A "Check Same config on servers": after the controller's leader stops and a new one
     * carries out more commands, every replica (read locally, stale allowed) ends with the same
     * history; and the history survives a restart of every store.
     */
    @Test
    void sameConfigOnEveryReplicaAfterALeaderChange() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, 10_000, DATA_GROUPS).startAll()) {
            cluster.awaitLeaders();
            try (KvClient client = cluster.client()) {
                assertEquals("", client.controller(join(10)).getError());
                long oldLeader = cluster.awaitLeader(GroupIds.CONTROLLER_GROUP_ID).storeId();
                cluster.stop(oldLeader);
                assertEquals("", client.controller(join(11)).getError());
                assertEquals("", client.controller(leave(1)).getError());
                cluster.start(oldLeader);
                Layout latest = client.config(-1).getConfig();
                assertEquals(4, latest.getVersion());
                assertBalancedOver(new TreeSet<>(List.of(2L, 10L, 11L)), latest);
                awaitEveryReplicaAt(cluster, latest);
            }
            for (long id = 1; id <= 3; id++) {
                cluster.stop(id);
            }
            for (long id = 1; id <= 3; id++) {
                cluster.start(id);
            }
            try (KvClient client = cluster.client()) {
                Layout latest = client.config(-1).getConfig();
                assertEquals(4, latest.getVersion());
                awaitEveryReplicaAt(cluster, latest);
                assertEquals(1, client.config(1).getConfig().getVersion());
            }
        }
    }

    /** Reads configuration -1 from each controller replica itself (SERIALIZABLE) until all equal {@code latest}. */
    private static void awaitEveryReplicaAt(LocalCluster cluster, Layout latest) throws Exception {
        KvRequest query = KvRequest.newBuilder().setConsistency(ReadConsistency.SERIALIZABLE)
                .setController(ControllerCommand.newBuilder().setQuery(QueryConfig.newBuilder().setNumber(-1))).build();
        try (RpcClient rpc = new RpcClient(RpcClientConfig.client(LocalCluster.CLUSTER_ID))) {
            for (long id : cluster.node(1).controllerStores()) {
                Map<String, Layout> seen = new TreeMap<>();
                LocalCluster.awaitCondition(() -> "store " + id + " to reach configuration " + latest.getVersion()
                        + ", last read " + seen, () -> {
                    KvReply reply = rpc.call(cluster.address(id).clientAddress(), NodeMethods.KV, query,
                            Duration.ofSeconds(5)).join();
                    seen.put("last", reply.getController().getConfig());
                    return reply.getStatus() == Status.OK && reply.getController().getConfig().equals(latest);
                });
            }
        }
    }

    /** Every slot is owned by a group of {@code groups}, every such group owns slots, and counts differ by at most one. */
    private static void assertBalancedOver(TreeSet<Long> groups, Layout config) {
        SlotLayout layout = SlotLayout.fromProto(config);
        Map<Long, Integer> counts = new TreeMap<>();
        for (int slot = 0; slot < Slots.SLOT_COUNT; slot++) {
            long owner = layout.groupOf(slot);
            assertTrue(groups.contains(owner), "slot " + slot + " is owned by group " + owner + ", not one of " + groups);
            counts.merge(owner, 1, Integer::sum);
        }
        assertEquals(groups, new TreeSet<>(counts.keySet()), "groups owning slots");
        int min = counts.values().stream().min(Integer::compare).orElseThrow();
        int max = counts.values().stream().max(Integer::compare).orElseThrow();
        assertTrue(max - min <= 1, "unbalanced: " + counts);
    }

    private static ControllerCommand join(long... groups) {
        JoinGroups.Builder join = JoinGroups.newBuilder();
        for (long group : groups) {
            join.addGroups(GroupReplicas.newBuilder().setGroupId(group).addStoreIds(1).addStoreIds(2).addStoreIds(3));
        }
        return ControllerCommand.newBuilder().setJoin(join).build();
    }

    private static ControllerCommand leave(long... groups) {
        LeaveGroups.Builder leave = LeaveGroups.newBuilder();
        for (long group : groups) {
            leave.addGroupIds(group);
        }
        return ControllerCommand.newBuilder().setLeave(leave).build();
    }
}
