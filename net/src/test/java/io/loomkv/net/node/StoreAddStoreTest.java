package io.loomkv.net.node;

import static io.loomkv.net.node.ShardMoves.addStore;
import static io.loomkv.net.node.ShardMoves.assertAllPresent;
import static io.loomkv.net.node.ShardMoves.awaitSettled;
import static io.loomkv.net.node.ShardMoves.configure;
import static io.loomkv.net.node.ShardMoves.fill;
import static io.loomkv.net.node.ShardMoves.join;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.controller.proto.ControllerReply;
import io.loomkv.core.shard.proto.StoreEndpoint;
import io.loomkv.net.client.KvClient;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Growing a sharded cluster by a store it was not created with (controller AddStore): store 4
 * starts with {@code join=true} knowing only the three members; a group cannot be placed on it
 * until it is added; once added, every store learns its addresses from the configuration, a new
 * group is placed on stores 2, 3 and 4, takes its share of the slots, and store 4 is a voting
 * replica of it: with store 2 stopped, groups 1 and 2 still take writes, and nothing written is
 * lost. Adding a store twice, or a store the cluster already has, is refused and changes nothing.
 */
class StoreAddStoreTest {

    @TempDir
    Path dir;

    @Test
    void aStoreAddedToARunningClusterHostsANewGroup() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, 10_000, 1).startAll()) {
            cluster.awaitLeaders();
            MemberAddress four = cluster.reserve(4);
            cluster.start(4);
            try (KvClient client = cluster.client()) {
                Map<String, String> expected = new HashMap<>(fill(client, 100, "before"));
                assertTrue(client.controller(join(2, 2, 3, 4)).getError().contains("store 4, which is not a member of the cluster"));

                long added = configure(client, addStore(4, four));
                assertEquals(List.of(4L), SlotLayout.fromProto(client.config(added).getConfig()).addedStores().all().stream()
                        .map(StoreEndpoint::getStoreId).toList());
                ControllerReply again = client.controller(addStore(4, four));
                assertTrue(again.getError().contains("store 4 is already a member of the cluster"), again.getError());
                ControllerReply initial = client.controller(addStore(2, four));
                assertTrue(initial.getError().contains("store 2 is already a member of the cluster"), initial.getError());
                assertEquals(added, client.config(-1).getConfig().getVersion(), "a refused AddStore made a configuration");

                long joined = configure(client, join(2, 2, 3, 4));
                awaitSettled(cluster, joined, List.of(1L, 2L));
                LocalCluster.awaitCondition("store 4 a voter of group 2", () -> cluster.node(4) != null
                        && cluster.node(4).voters(2).equals(List.of(2L, 3L, 4L)));
                expected.putAll(fill(client, 100, "after"));
                assertAllPresent(client, expected);
                // Every store learned store 4's addresses from the configuration (clients route to it).
                for (long store = 1; store <= 3; store++) {
                    assertEquals(four, cluster.node(store).memberAddress(4), "store " + store + "'s address of store 4");
                }

                cluster.stop(2);
                expected.putAll(fill(client, 100, "without-store-2"));
                assertAllPresent(client, expected);
            }
        }
    }
}
