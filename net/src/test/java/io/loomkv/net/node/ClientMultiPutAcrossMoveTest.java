package io.loomkv.net.node;

import static io.loomkv.net.node.ShardMoves.assertAllPresent;
import static io.loomkv.net.node.ShardMoves.awaitSettled;
import static io.loomkv.net.node.ShardMoves.configure;
import static io.loomkv.net.node.ShardMoves.fill;
import static io.loomkv.net.node.ShardMoves.join;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.client.KvClientConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client whose layout is from before a group joined splits a multi-put by that old layout, so
 * one part holds keys that now live in two groups. The old group refuses the part before applying
 * anything (WRONG_GROUP), no attempt of it is in doubt, so the client gives its sequence up and
 * writes the entries again split by the new layout. Before, it sent the same part to the same group
 * until its deadline and failed with the outcome unknown (seen once in KvBenchShardedClusterTest's
 * preload); the stale client's 10 s deadline makes that failure certain here, not slow.
 */
class ClientMultiPutAcrossMoveTest {

    @TempDir
    Path dir;

    @Test
    void aMultiPutSplitByAStaleLayoutIsSplitAgain() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, 10_000, 1).startAll()) {
            cluster.awaitLeaders();
            KvClientConfig shortDeadline = KvClientConfig.of(cluster.clientAddresses(), LocalCluster.CLUSTER_ID)
                    .withDeadline(Duration.ofSeconds(10), Duration.ofSeconds(2));
            try (KvClient admin = cluster.client(); KvClient stale = new KvClient(shortDeadline)) {
                Map<String, String> first = fill(admin, 100, "mput");
                // The stale client learns the one-group layout and opens its session in group 1 now.
                stale.multiPut(encode(first));
                long config = configure(admin, join(2));
                awaitSettled(cluster, config, List.of(1L, 2L));

                Map<String, String> second = new TreeMap<>();
                first.keySet().forEach(key -> second.put(key, key + "-second"));
                stale.multiPut(encode(second));

                assertAllPresent(admin, second);
                long inGroup2 = second.keySet().stream().filter(key -> admin.groupOf(ByteString.copyFromUtf8(key)) == 2).count();
                // Otherwise the old layout's part would not have spanned two groups: the test would prove nothing.
                assertEquals(true, inGroup2 > 0 && inGroup2 < second.size(), inGroup2 + " of " + second.size() + " keys in group 2");
            }
        }
    }

    private static Map<ByteString, ByteString> encode(Map<String, String> entries) {
        Map<ByteString, ByteString> encoded = new LinkedHashMap<>();
        entries.forEach((key, value) -> encoded.put(ByteString.copyFromUtf8(key), ByteString.copyFromUtf8(value)));
        return encoded;
    }
}
