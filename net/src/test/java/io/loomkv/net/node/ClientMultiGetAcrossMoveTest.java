package io.loomkv.net.node;

import static io.loomkv.net.node.ShardMoves.awaitSettled;
import static io.loomkv.net.node.ShardMoves.configure;
import static io.loomkv.net.node.ShardMoves.fill;
import static io.loomkv.net.node.ShardMoves.join;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.MultiGetResult;
import io.loomkv.net.client.KvClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client whose layout is from before a group joined splits a multi-get by that old layout, so
 * one part holds keys that now live in two groups; the store refuses that part (WRONG_GROUP), and
 * the client splits the keys again by the new layout instead of asking the same group until its
 * deadline (which the bench's multi-get test once hit: "no definite answer from group 1 ... keys
 * belong to groups [1, 2], not to group 1").
 */
class ClientMultiGetAcrossMoveTest {

    @TempDir
    Path dir;

    @Test
    void aMultiGetSplitByAStaleLayoutIsSplitAgain() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, 10_000, 1).startAll()) {
            cluster.awaitLeaders();
            try (KvClient admin = cluster.client(); KvClient stale = cluster.client(Duration.ofSeconds(2))) {
                Map<String, String> expected = fill(admin, 100, "mget");
                List<ByteString> keys = new ArrayList<>();
                expected.keySet().forEach(key -> keys.add(ByteString.copyFromUtf8(key)));
                // The stale client learns the one-group layout now, and keeps it.
                assertEquals(keys.size(), stale.multiGet(keys).getEntriesCount());
                long config = configure(admin, join(2));
                awaitSettled(cluster, config, List.of(1L, 2L));
                long started = System.nanoTime();
                MultiGetResult result = stale.multiGet(keys);
                long millis = (System.nanoTime() - started) / 1_000_000;
                for (int i = 0; i < keys.size(); i++) {
                    assertEquals(expected.get(keys.get(i).toStringUtf8()), result.getEntries(i).getValue().toStringUtf8());
                }
                // Well within the client's 30 s deadline: the refusal was answered by a new split, not by retries.
                assertEquals(true, millis < 10_000, "the multi-get took " + millis + " ms");
            }
        }
    }
}
