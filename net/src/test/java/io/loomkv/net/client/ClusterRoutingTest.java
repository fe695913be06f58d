package io.loomkv.net.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.shard.SlotLayout;
import io.loomkv.net.node.NodeMethods;
import io.loomkv.net.rpc.RpcClient;
import io.loomkv.net.rpc.RpcClientConfig;
import io.loomkv.net.rpc.RpcHandlers;
import io.loomkv.net.rpc.RpcServer;
import io.loomkv.net.rpc.RpcServerConfig;
import io.loomkv.net.store.proto.LayoutReply;
import io.loomkv.net.store.proto.StoreAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The client's routing cache: which address a request for a group goes to, and when it forgets a leader. */
class ClusterRoutingTest {
    private static final String CLUSTER = "routing-test";

    /**
     * A leader learned from a NOT_LEADER hint, on a store the layout does not list (a membership
     * change added it), that then stops answering: the client must forget it and go back to the
     * group's replicas. It used to keep it (only layout addresses were forgotten), so an admin call
     * retried the dead store until its deadline (found by ./loomkv chaos --groups 8).
     */
    @Test
    void aDeadLeaderKnownOnlyFromAHintIsForgotten() throws Exception {
        SlotLayout layout = SlotLayout.evenSplit(1, 2, List.of(1L, 2L, 3L), 3);
        LayoutReply.Builder reply = LayoutReply.newBuilder().setLayout(layout.toProto()).setStoreId(1);
        for (long store = 1; store <= 3; store++) {
            reply.addStores(StoreAddress.newBuilder().setStoreId(store).setClientAddress("127.0.0.1:" + (7000 + store))
                    .setPeerAddress("127.0.0.1:" + (8000 + store)));
        }
        LayoutReply fixed = reply.build();
        RpcServer source = new RpcServer(RpcServerConfig.defaults(CLUSTER), RpcHandlers.builder()
                .add(NodeMethods.LAYOUT, (request, context) -> CompletableFuture.completedFuture(fixed)).build());
        try (source; RpcClient rpc = new RpcClient(RpcClientConfig.client(CLUSTER))) {
            int port = source.start(new InetSocketAddress("127.0.0.1", 0));
            ClusterRouting routing = new ClusterRouting(
                    KvClientConfig.of(List.of(new InetSocketAddress("127.0.0.1", port)), CLUSTER), rpc);
            ClusterRouting.View view = routing.refresh(0).join();
            Set<InetSocketAddress> replicas = Set.copyOf(view.stores().values());

            InetSocketAddress hinted = new InetSocketAddress("127.0.0.1", 7009);
            routing.leaderIs(1, 9, hinted);
            assertEquals(hinted, routing.target(view, 1));
            routing.forgetLeader(1, hinted);
            for (int i = 0; i < 6; i++) {
                InetSocketAddress next = routing.target(view, 1);
                assertNotEquals(hinted, next);
                assertTrue(replicas.contains(next), next + " is not a replica of group 1");
            }

            // The same for a leader the layout lists, and a failure elsewhere leaves the leader cached.
            routing.leaderIs(2, 2);
            InetSocketAddress two = view.stores().get(2L);
            routing.forgetLeader(2, view.stores().get(3L));
            assertEquals(two, routing.target(view, 2));
            routing.forgetLeader(2, two);
            routing.leaderIs(2, 3);
            assertEquals(view.stores().get(3L), routing.target(view, 2));
        }
    }

    /**
     * A stale read goes to the group's followers in turn, never to its known leader; with the
     * leader unknown every replica counts; a group with one replica has no follower (null: the
     * caller goes to the leader).
     */
    @Test
    void followerTargetsTakeTheFollowersInTurn() throws Exception {
        SlotLayout layout = SlotLayout.evenSplit(1, 2, List.of(1L, 2L, 3L), 3);
        LayoutReply.Builder reply = LayoutReply.newBuilder().setLayout(layout.toProto()).setStoreId(1);
        for (long store = 1; store <= 3; store++) {
            reply.addStores(StoreAddress.newBuilder().setStoreId(store).setClientAddress("127.0.0.1:" + (7000 + store))
                    .setPeerAddress("127.0.0.1:" + (8000 + store)));
        }
        LayoutReply fixed = reply.build();
        RpcServer source = new RpcServer(RpcServerConfig.defaults(CLUSTER), RpcHandlers.builder()
                .add(NodeMethods.LAYOUT, (request, context) -> CompletableFuture.completedFuture(fixed)).build());
        try (source; RpcClient rpc = new RpcClient(RpcClientConfig.client(CLUSTER))) {
            int port = source.start(new InetSocketAddress("127.0.0.1", 0));
            ClusterRouting routing = new ClusterRouting(
                    KvClientConfig.of(List.of(new InetSocketAddress("127.0.0.1", port)), CLUSTER), rpc);
            ClusterRouting.View view = routing.refresh(0).join();
            routing.leaderIs(1, 2);
            java.util.List<InetSocketAddress> seen = new java.util.ArrayList<>();
            for (int i = 0; i < 4; i++) {
                seen.add(routing.followerTarget(view, 1));
            }
            assertEquals(Set.of(view.stores().get(1L), view.stores().get(3L)), Set.copyOf(seen), "both followers, never the leader");
            assertNotEquals(seen.get(0), seen.get(1), "in turn");
            assertEquals(3, java.util.stream.IntStream.range(0, 6).mapToObj(i -> routing.followerTarget(view, 2))
                    .collect(java.util.stream.Collectors.toSet()).size(), "leader unknown: every replica");

            SlotLayout single = SlotLayout.evenSplit(1, 1, List.of(1L), 1);
            ClusterRouting.View alone = new ClusterRouting.View(single, view.stores(), List.of(), System.nanoTime());
            routing.leaderIs(1, 1);
            assertEquals(null, routing.followerTarget(alone, 1));
        }
    }
}
