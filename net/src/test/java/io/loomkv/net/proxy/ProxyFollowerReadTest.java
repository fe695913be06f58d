package io.loomkv.net.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.ReadConsistency;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.node.ShardedTestCluster;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SERIALIZABLE reads through the proxy reach followers, linearizable ones the leader: with one
 * follower of a group cut off from its peers, a new value committed by the other two is what every
 * linearizable read returns, while serializable reads (spread over the followers in turn) also
 * return the old value, which only a follower can still hold once the leader has answered the put.
 */
class ProxyFollowerReadTest {
    private static final long GROUP = 1;

    @TempDir
    Path dir;

    @Test
    void serializableReadsReachFollowers() throws Exception {
        try (ShardedTestCluster cluster = ShardedTestCluster.start(dir, 3, 3);
                KvProxy proxy = ProxyTests.startProxy(cluster, ProxyConfig.defaults());
                KvClient caller = ProxyTests.callerOf(proxy)) {
            String key = cluster.keyIn(GROUP, "stale");
            ByteString keyBytes = ByteString.copyFromUtf8(key);
            caller.put(key, "old");
            long leader = cluster.leaderOf(GROUP);
            long applied = cluster.appliedIndex(leader, GROUP);
            ShardedTestCluster.awaitCondition("every replica applied the old value",
                    () -> cluster.storeIds().stream().allMatch(id -> cluster.appliedIndex(id, GROUP) >= applied));
            long cutOff = cluster.storeIds().stream().filter(id -> id != leader).findFirst().orElseThrow();
            Set<Long> others = new HashSet<>(cluster.storeIds());
            others.remove(cutOff);
            cluster.partition(Set.of(cutOff), others);
            try {
                caller.put(key, "new");
                Set<String> serializable = new HashSet<>();
                for (int i = 0; i < 24; i++) {
                    assertEquals("new", caller.get(key).orElseThrow(), "a linearizable read sees the committed put");
                    serializable.add(caller.get(keyBytes, ReadConsistency.SERIALIZABLE).orElseThrow().toStringUtf8());
                }
                assertTrue(serializable.contains("old"), "serializable reads reached a follower: " + serializable);
            } finally {
                cluster.connectAll();
            }
        }
    }
}
