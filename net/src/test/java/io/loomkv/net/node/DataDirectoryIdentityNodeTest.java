package io.loomkv.net.node;

import static io.loomkv.net.node.LocalCluster.GROUP;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.net.client.KvClient;
import io.loomkv.net.client.KvClientConfig;
import io.loomkv.persist.identity.DataDirectoryMismatchException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node refuses, at startup and before touching anything, a data directory that belongs to
 * another cluster or to another node id, with a message naming both; its own directory still
 * starts afterwards with its data intact.
 */
class DataDirectoryIdentityNodeTest {
    @TempDir
    Path dir;

    @Test
    void dataOfAnotherClusterOrAnotherNodeIsRefusedAtStartup() throws Exception {
        MemberAddress one = LocalCluster.newAddress(1);
        MemberAddress two = LocalCluster.newAddress(2);
        Path data = dir.resolve("node1");
        NodeConfig own = config(1, "cluster-a", one, data, List.of(one));
        try (Store node = Store.start(own); KvClient client = client(own)) {
            awaitLeader(node);
            client.put("k", "v");
        }
        byte[] walBefore = Files.readAllBytes(Files.list(data.resolve("raft").resolve("wal")).sorted().findFirst().orElseThrow());

        DataDirectoryMismatchException otherCluster = assertThrows(DataDirectoryMismatchException.class,
                () -> Store.start(config(1, "cluster-b", one, data, List.of(one))));
        assertTrue(otherCluster.getMessage().contains("belongs to node 1 of cluster 'cluster-a', not to node 1 of cluster 'cluster-b'"),
                otherCluster.getMessage());

        DataDirectoryMismatchException otherNode = assertThrows(DataDirectoryMismatchException.class,
                () -> Store.start(config(2, "cluster-a", two, data, List.of(two))));
        assertTrue(otherNode.getMessage().contains("belongs to node 1 of cluster 'cluster-a', not to node 2"), otherNode.getMessage());

        byte[] walAfter = Files.readAllBytes(Files.list(data.resolve("raft").resolve("wal")).sorted().findFirst().orElseThrow());
        assertTrue(java.util.Arrays.equals(walBefore, walAfter), "a refused start must not touch the WAL");
        try (Store node = Store.start(own); KvClient client = client(own)) {
            awaitLeader(node);
            assertEquals("v", client.get("k").orElseThrow());
        }
    }

    private static NodeConfig config(long id, String clusterId, MemberAddress self, Path data, List<MemberAddress> members) {
        return new NodeConfig(id, clusterId, self.clientAddress(), self.peerAddress(), data, members, false, 20, 10, 1, 10_000,
                true, false, 1024, 64 * 1024, 5_000, 1, 0, NodeConfig.DEFAULT_RAFT_WORKERS, NodeConfig.DEFAULT_APPLY_THREADS);
    }

    private static KvClient client(NodeConfig config) {
        return new KvClient(KvClientConfig.of(List.of(config.clientAddress()), config.clusterId()));
    }

    private static void awaitLeader(Store node) {
        LocalCluster.awaitCondition("node " + node.storeId() + " leads its one-node cluster", () -> node.isLeader(GROUP));
    }
}
