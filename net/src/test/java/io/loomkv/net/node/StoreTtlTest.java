package io.loomkv.net.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.Get;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.ReadConsistency;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.net.client.KeyTtl;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.rpc.RpcClient;
import io.loomkv.net.rpc.RpcClientConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keys with a time to live on real stores (docs/ttl.md): the deadline is fixed by the leader when
 * the write is applied and is the same on every replica; from it on no store returns the key,
 * leader or follower; a leader change or a restart of every store keeps the deadline as it was
 * (etcd reset leases on leader change, etcd#9395); and active expiry removes expired keys from every
 * replica's engine without any read.
 */
class StoreTtlTest {

    @TempDir
    Path dir;

    @Test
    void aKeyExpiresAtItsDeadlineOnTheLeaderAndEveryFollower() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, 10_000).startAll(); KvClient client = cluster.client();
                RpcClient rpc = new RpcClient(RpcClientConfig.client(LocalCluster.CLUSTER_ID))) {
            cluster.awaitLeader();
            ByteString key = ByteString.copyFromUtf8("session:42");
            assertFalse(client.put(key, ByteString.copyFromUtf8("token"), Duration.ofMillis(2_500)));
            KeyTtl ttl = client.ttl(key);
            assertTrue(ttl.exists() && ttl.expires(), ttl.toString());
            assertTrue(ttl.remainingMillis() > 0 && ttl.remainingMillis() <= 2_500, ttl.toString());
            long deadline = ttl.expiresAtMillis();
            // Every replica holds the same deadline, and serves the key before it.
            LocalCluster.awaitCondition("every replica serves the key with its deadline", () -> {
                for (long id = 1; id <= 3; id++) {
                    KvReply reply = localGet(rpc, cluster, id, key);
                    if (reply.getStatus() != Status.OK || reply.getGet().getExpiresAtMillis() != deadline) {
                        return System.currentTimeMillis() >= deadline; // too late to see it: fail below
                    }
                }
                return true;
            });
            assertTrue(System.currentTimeMillis() < deadline, "the machine was too slow to see the key before its deadline");
            Thread.sleep(Math.max(0, deadline - System.currentTimeMillis()));
            for (long id = 1; id <= 3; id++) {
                KvReply reply = localGet(rpc, cluster, id, key);
                assertEquals(Status.NOT_FOUND, reply.getStatus(), "store " + id + " after the deadline: " + reply);
            }
            assertTrue(client.get(key).isEmpty());
            assertFalse(client.ttl(key).exists());
        }
    }

    @Test
    void aDeadlineSurvivesALeaderChangeAndARestartOfEveryStore() throws Exception {
        // A small snapshot threshold: the restart rebuilds from a snapshot that carries the deadline.
        try (LocalCluster cluster = new LocalCluster(dir, 3, 50).startAll()) {
            ByteString key = ByteString.copyFromUtf8("lease");
            long deadline;
            try (KvClient client = cluster.client()) {
                client.put(key, ByteString.copyFromUtf8("held"), Duration.ofMinutes(10));
                deadline = client.ttl(key).expiresAtMillis();
                for (int i = 0; i < 120; i++) {
                    client.put("filler/" + i, "x");
                }
                long oldLeader = cluster.awaitLeader().storeId();
                Thread.sleep(20); // the deadline is minutes away: a later leader must not restart it
                cluster.stop(oldLeader);
                assertTrue(cluster.awaitLeader().storeId() != oldLeader);
                KeyTtl afterFailover = client.ttl(key);
                assertEquals(deadline, afterFailover.expiresAtMillis(), "a leader change keeps the deadline");
                cluster.start(oldLeader);
            }
            for (long id = 1; id <= 3; id++) {
                cluster.stop(id);
            }
            for (long id = 1; id <= 3; id++) {
                cluster.start(id);
            }
            cluster.awaitLeader();
            try (KvClient client = cluster.client()) {
                KeyTtl afterRestart = client.ttl(key);
                assertEquals(deadline, afterRestart.expiresAtMillis(), "a restart keeps the deadline");
                assertEquals("held", client.get("lease").orElseThrow());
                assertTrue(client.persist(key), "persist removes the deadline");
                assertFalse(client.ttl(key).expires());
            }
        }
    }

    @Test
    void activeExpiryRemovesExpiredKeysFromEveryReplicaWithoutAnyRead() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, 10_000).startAll(); KvClient client = cluster.client()) {
            cluster.awaitLeader();
            Map<ByteString, ByteString> plain = new TreeMap<>(io.loomkv.core.kv.KvKeys.ORDER);
            for (int i = 0; i < 100; i++) {
                plain.put(ByteString.copyFromUtf8("keep/" + i), ByteString.copyFromUtf8("v"));
            }
            client.multiPut(plain);
            int expiring = 2_500;
            for (int i = 0; i < expiring; i++) {
                client.put(ByteString.copyFromUtf8("temp/" + i), ByteString.copyFromUtf8("x"), Duration.ofMillis(500));
            }
            LocalCluster.awaitCondition(() -> "every replica's engine holds only the 100 keys without a deadline: "
                    + keyCounts(cluster), () -> {
                for (long id = 1; id <= 3; id++) {
                    if (cluster.node(id).engineKeyCount(LocalCluster.GROUP) != 100) {
                        return false;
                    }
                }
                return true;
            });
            for (ByteString key : plain.keySet()) {
                assertEquals("v", client.get(key).orElseThrow().toStringUtf8());
            }
        }
    }

    private static String keyCounts(LocalCluster cluster) {
        StringBuilder counts = new StringBuilder();
        for (long id = 1; id <= 3; id++) {
            counts.append(" store ").append(id).append(": ").append(cluster.node(id).engineKeyCount(LocalCluster.GROUP));
        }
        return counts.toString();
    }

    /** A serializable read served by store {@code id} itself, leader or follower. */
    private static KvReply localGet(RpcClient rpc, LocalCluster cluster, long id, ByteString key) {
        KvRequest get = KvRequest.newBuilder().setConsistency(ReadConsistency.SERIALIZABLE)
                .setGet(Get.newBuilder().setKey(key)).build();
        return rpc.call(cluster.address(id).clientAddress(), NodeMethods.KV, get, Duration.ofSeconds(5)).join();
    }
}
