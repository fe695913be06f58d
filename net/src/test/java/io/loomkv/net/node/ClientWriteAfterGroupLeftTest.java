package io.loomkv.net.node;

import static io.loomkv.net.node.ShardMoves.awaitSettled;
import static io.loomkv.net.node.ShardMoves.configure;
import static io.loomkv.net.node.ShardMoves.leave;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.client.KvClientConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client routes a write by a layout from before a group left, to that group, where it has no
 * session yet: the session cannot open there (the stores refuse the departed group), so the write
 * goes to its key's new group. It used to ask the departed group until its deadline and fail with
 * its outcome unknown (found by {@link StoreShardKvFaultTest#unreliable2}: an append stalled 30 s).
 */
class ClientWriteAfterGroupLeftTest {

    @TempDir
    Path dir;

    @Test
    void writeRoutedToADepartedGroupGoesToTheKeysNewGroup() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, 10_000, 2).startAll()) {
            cluster.awaitLeaders();
            String key = cluster.keyIn(2, "departed");
            KvClientConfig tenSeconds = KvClientConfig.of(cluster.clientAddresses(), LocalCluster.CLUSTER_ID)
                    .withDeadline(Duration.ofSeconds(10), Duration.ofSeconds(2));
            try (KvClient admin = cluster.client(); KvClient stale = new KvClient(tenSeconds)) {
                // A read fetches the layout (group 2 owns the key) and opens no session.
                assertEquals(Optional.empty(), stale.get(key));
                assertEquals(2, stale.groupOf(ByteString.copyFromUtf8(key)));
                long config = configure(admin, leave(2));
                awaitSettled(cluster, config, List.of(1L, 2L));

                stale.put(key, "after-leave");

                assertEquals("after-leave", admin.get(key).orElse(null));
                assertEquals(1, admin.refreshLayout().groupOf(io.loomkv.core.shard.Slots.slotOf(ByteString.copyFromUtf8(key))));
            }
        }
    }
}
