package io.loomkv.net.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.node.ShardedTestCluster;
import io.loomkv.net.node.proto.AdminReply;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Writers append numbered tokens through the proxy, one key per group, while every group's
 * leadership moves to another store: each writer's key ends up holding each of its acknowledged
 * tokens exactly once and in order (the proxy followed NOT_LEADER, and its retries were deduped).
 */
class ProxyLeaderChangeTest {
    private static final int APPENDS_PER_WRITER = 40;

    @TempDir
    Path dir;

    @Test
    void leaderChangeDuringLoadLosesAndDuplicatesNothing() throws Exception {
        try (ShardedTestCluster cluster = ShardedTestCluster.start(dir, 3, 3);
                KvProxy proxy = ProxyTests.startProxy(cluster, ProxyConfig.defaults());
                KvClient caller = ProxyTests.callerOf(proxy);
                KvClient direct = cluster.client();
                ExecutorService writers = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Long> groups = cluster.groups();
            CountDownLatch halfway = new CountDownLatch(groups.size());
            List<Future<String>> expected = new ArrayList<>();
            for (long group : groups) {
                String key = cluster.keyIn(group, "load");
                expected.add(writers.submit(() -> {
                    StringBuilder tokens = new StringBuilder();
                    for (int i = 0; i < APPENDS_PER_WRITER; i++) {
                        String token = "g" + group + "-" + i + ";";
                        caller.append(ByteString.copyFromUtf8(key), ByteString.copyFromUtf8(token));
                        tokens.append(token);
                        if (i == APPENDS_PER_WRITER / 2) {
                            halfway.countDown();
                        }
                    }
                    return tokens.toString();
                }));
            }
            halfway.await();
            for (long group : groups) {
                long leader = cluster.leaderOf(group);
                long target = cluster.storeIds().stream().filter(id -> id != leader).findFirst().orElseThrow();
                AdminReply moved = direct.transferLeader(group, target);
                assertTrue(moved.getOk(), "transfer of group " + group + ": " + moved.getMessage());
            }
            for (int g = 0; g < groups.size(); g++) {
                String key = cluster.keyIn(groups.get(g), "load");
                assertEquals(expected.get(g).get(), direct.get(key).orElseThrow(), "every token of " + key + " once, in order");
            }
        }
    }
}
