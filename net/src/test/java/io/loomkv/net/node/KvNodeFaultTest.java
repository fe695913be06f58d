package io.loomkv.net.node;

import static io.loomkv.net.node.LocalCluster.GROUP;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.Append;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.OpenSession;
import io.loomkv.core.kv.proto.ReadConsistency;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.client.KvClientConfig;
import io.loomkv.net.rpc.RpcClient;
import io.loomkv.net.rpc.RpcClientConfig;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Crashes, restarts, snapshots and retries against in-process clusters (names after the 6.824 KV lab). */
class KvNodeFaultTest {
    @TempDir
    Path dir;

    @Test
    void leaderCrashThenNewLeaderServes() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, 10_000).startAll(); KvClient client = cluster.client()) {
            client.put("crash/k", "before");
            Store leader = cluster.awaitLeader();
            cluster.stop(leader.storeId());
            Store next = cluster.awaitLeader();
            assertNotEquals(leader.storeId(), next.storeId());
            assertEquals(Optional.of("before"), client.get("crash/k"));
            client.put("crash/k", "after");
            assertEquals(Optional.of("after"), client.get("crash/k"));
            cluster.start(leader.storeId());
            LocalCluster.awaitCondition("the old leader catches up", () ->
                    cluster.node(leader.storeId()).appliedIndex(GROUP) >= cluster.awaitLeader().appliedIndex(GROUP));
        }
    }

    @Test
    void snapshotRecoverAfterFullRestart() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, 50).startAll()) {
            try (KvClient client = cluster.client()) {
                for (int i = 0; i < 300; i++) {
                    client.put("persist/" + i, "v" + i);
                }
            }
            LocalCluster.awaitCondition("every node took a snapshot", () -> {
                for (long id = 1; id <= 3; id++) {
                    if (cluster.node(id).snapshotIndex(GROUP) == 0) {
                        return false;
                    }
                }
                return true;
            });
            for (long id = 1; id <= 3; id++) {
                cluster.stop(id);
            }
            cluster.startAll();
            cluster.awaitLeader();
            try (KvClient client = cluster.client()) {
                for (int i = 0; i < 300; i += 7) {
                    assertEquals(Optional.of("v" + i), client.get("persist/" + i));
                }
                client.put("persist/after", "restart");
                assertEquals(Optional.of("restart"), client.get("persist/after"));
            }
        }
    }

    @Test
    void snapshotRpcBringsLaggingFollowerUp() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, 50).startAll()) {
            Store leader = cluster.awaitLeader();
            long lagging = leader.storeId() == 3 ? 2 : 3;
            cluster.stop(lagging);
            try (KvClient client = cluster.client()) {
                for (int i = 0; i < 300; i++) {
                    client.put("snap/" + i, "v" + i);
                }
            }
            Store current = cluster.awaitLeader();
            LocalCluster.awaitCondition("the leader compacted its log", () -> current.firstLogIndex(GROUP) > 50);
            Store restarted = cluster.start(lagging);
            LocalCluster.awaitCondition("the lagging node caught up through a snapshot",
                    () -> restarted.appliedIndex(GROUP) >= current.appliedIndex(GROUP) && restarted.snapshotIndex(GROUP) > 0);
            try (KvClient one = new KvClient(KvClientConfig.of(List.of(cluster.address(lagging).clientAddress()),
                    LocalCluster.CLUSTER_ID))) {
                assertEquals(Optional.of(ByteString.copyFromUtf8("v299")),
                        one.get(ByteString.copyFromUtf8("snap/299"), ReadConsistency.SERIALIZABLE));
                assertEquals(Optional.of(ByteString.copyFromUtf8("v7")),
                        one.get(ByteString.copyFromUtf8("snap/7"), ReadConsistency.SERIALIZABLE));
            }
        }
    }

    @Test
    void writeRetriedAcrossLeaderChangeIsAppliedOnce() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, 10_000).startAll();
                RpcClient rpc = new RpcClient(RpcClientConfig.client(LocalCluster.CLUSTER_ID))) {
            Store leader = cluster.awaitLeader();
            InetSocketAddress leaderAddress = cluster.address(leader.storeId()).clientAddress();
            KvReply opened = call(rpc, leaderAddress, KvRequest.newBuilder().setOpenSession(OpenSession.getDefaultInstance()).build());
            assertEquals(Status.OK, opened.getStatus());
            long clientId = opened.getOpenSession().getClientId();
            KvRequest append = KvRequest.newBuilder().setClientId(clientId).setSequence(1).setAcknowledgedBelow(1)
                    .setAppend(Append.newBuilder().setKey(ByteString.copyFromUtf8("once/k")).setValue(ByteString.copyFromUtf8("x")))
                    .build();
            KvReply first = call(rpc, leaderAddress, append);
            assertEquals(Status.OK, first.getStatus());
            assertEquals(1, first.getAppend().getNewLengthBytes());
            // The client "did not hear" the reply and retries the same sequence at the next leader.
            cluster.stop(leader.storeId());
            Store next = cluster.awaitLeader();
            KvReply retried = call(rpc, cluster.address(next.storeId()).clientAddress(), append);
            assertEquals(Status.OK, retried.getStatus());
            assertEquals(first, retried);
            try (KvClient client = cluster.client()) {
                assertEquals(Optional.of("x"), client.get("once/k"));
            }
        }
    }

    private static KvReply call(RpcClient rpc, InetSocketAddress address, KvRequest request) {
        return rpc.call(address, NodeMethods.KV, request, Duration.ofSeconds(10)).join();
    }
}
