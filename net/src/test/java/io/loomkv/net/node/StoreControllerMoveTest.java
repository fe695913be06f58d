package io.loomkv.net.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.shard.GroupIds;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.controller.proto.ControllerCommand;
import io.loomkv.core.shard.controller.proto.ControllerReply;
import io.loomkv.core.shard.controller.proto.JoinGroups;
import io.loomkv.core.shard.controller.proto.ReplaceReplica;
import io.loomkv.core.shard.proto.GroupReplicas;
import io.loomkv.net.client.KvClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shard controller's own replica moves (docs/shard-controller.md, "Moving the controller"):
 * on 4 stores with the controller on stores 1-3, a ReplaceReplica of group 0 moves the replica of
 * the store leading it to store 4 while a client writes. The leader hands over, store 4 joins as a
 * learner and becomes a voter in one joint change that removes the old store, which drops its
 * replica; every store then routes controller commands by the new list, the controller keeps
 * making configurations, a restart of the old store does not bring its replica back, and after
 * every store restarts the controller is found and has lost nothing.
 */
class StoreControllerMoveTest {
    private static final long CONTROLLER = GroupIds.CONTROLLER_GROUP_ID;

    @TempDir
    Path dir;

    @Test
    void moveTheControllersLeaderReplicaToAnotherStoreUnderWrites() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 4, 100, 1).withReplicasPerGroup(3).startAll()) {
            cluster.awaitLeaders();
            Store leader = cluster.awaitLeader(CONTROLLER);
            long from = leader.storeId();
            List<Long> expected = new ArrayList<>(List.of(1L, 2L, 3L));
            expected.set(expected.indexOf(from), 4L);
            List<Long> sorted = expected.stream().sorted().toList();
            long latest;
            int written;
            try (KvClient client = cluster.client(); KvClient writerClient = cluster.client();
                    SequentialWriter writer = new SequentialWriter(writerClient)) {
                writer.awaitMore(100, "100 writes before the move");

                ControllerReply moved = client.controller(replace(from, 4));
                assertEquals("", moved.getError());
                assertEquals(expected, SlotLayout.fromProto(moved.getConfig()).controllerStores());
                LocalCluster.awaitCondition(() -> "store 4 a voter of group 0 and store " + from + " gone: store 4 hosts "
                                + cluster.node(4).groups() + " voters " + cluster.node(4).voters(CONTROLLER) + ", store " + from
                                + " hosts " + cluster.node(from).groups(),
                        () -> cluster.node(4).voters(CONTROLLER).equals(sorted) && !cluster.node(from).groups().contains(CONTROLLER));
                for (long id = 1; id <= 4; id++) {
                    Store store = cluster.node(id);
                    LocalCluster.awaitCondition(() -> "store " + store.storeId() + " routes controller commands by " + expected
                            + ", not " + store.controllerStores(), () -> store.controllerStores().equals(expected));
                }
                Store newLeader = cluster.awaitLeader(CONTROLLER);
                assertTrue(expected.contains(newLeader.storeId()), "controller led by store " + newLeader.storeId());

                // The controller goes on: a new group on the stores, which takes writes.
                ControllerReply joined = client.controller(join(2, 2, 3, 4));
                assertEquals("", joined.getError());
                assertEquals(expected, SlotLayout.fromProto(joined.getConfig()).controllerStores(), "carried on by a Join");
                LocalCluster.awaitCondition("group 2 has a leader at the new configuration",
                        () -> cluster.runningIds().stream().anyMatch(id -> cluster.node(id).isLeader(2)));
                writer.awaitMore(100, "100 writes after the move");
                written = writer.stop();

                // The old store restarts without its replica of group 0, and knows where the controller is.
                cluster.stop(from);
                cluster.start(from);
                assertFalse(cluster.node(from).groups().contains(CONTROLLER), "store " + from + " hosts " + cluster.node(from).groups());
                assertEquals(expected, cluster.node(from).controllerStores(), "saved across the restart");
                Thread.sleep(2_000);
                assertFalse(cluster.node(from).groups().contains(CONTROLLER), "store " + from + " hosts " + cluster.node(from).groups());
                latest = client.config(-1).getConfig().getVersion();
            }

            // Every store restarts: the controller elects a leader among its new stores and has every configuration.
            for (long id = 1; id <= 4; id++) {
                cluster.stop(id);
            }
            for (long id = 1; id <= 4; id++) {
                cluster.start(id);
            }
            Store restarted = cluster.awaitLeader(CONTROLLER);
            assertTrue(expected.contains(restarted.storeId()), "controller led by store " + restarted.storeId());
            assertEquals(sorted, restarted.voters(CONTROLLER));
            assertFalse(cluster.node(from).groups().contains(CONTROLLER), "store " + from + " hosts " + cluster.node(from).groups());
            try (KvClient client = cluster.client(List.of(from))) {
                ControllerReply config = client.config(-1);
                assertEquals("", config.getError());
                assertEquals(latest, config.getConfig().getVersion());
                assertEquals(expected, SlotLayout.fromProto(config.getConfig()).controllerStores());
                SequentialWriter.assertEveryWriteReadBack(client, written);
            }
        }
    }

    private static ControllerCommand replace(long from, long to) {
        return ControllerCommand.newBuilder().setReplaceReplica(ReplaceReplica.newBuilder().setGroupId(CONTROLLER)
                .setFromStore(from).setToStore(to)).build();
    }

    private static ControllerCommand join(long group, long... stores) {
        GroupReplicas.Builder replicas = GroupReplicas.newBuilder().setGroupId(group);
        for (long store : stores) {
            replicas.addStoreIds(store);
        }
        return ControllerCommand.newBuilder().setJoin(JoinGroups.newBuilder().addGroups(replicas)).build();
    }
}
