package io.loomkv.net.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.lincheck.CheckResult;
import io.loomkv.net.client.KvClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Concurrent clients against a 3-node cluster whose leader is killed and restarted midway; the
 * whole history must be linearizable (6.824 "PersistConcurrent" with the checker of core/lincheck).
 */
class KvNodeLinearizabilityTest {
    private static final int CLIENTS = 4;
    private static final int OPERATIONS_PER_CLIENT = 60;
    private static final List<String> KEYS = List.of("lin/a", "lin/b", "lin/c");

    @TempDir
    Path dir;

    @Test
    void PersistConcurrent() throws Exception {
        ClientHistory history = new ClientHistory(KEYS);
        try (LocalCluster cluster = new LocalCluster(dir, 3, 40).startAll()) {
            cluster.awaitLeader();
            CountDownLatch thirdDone = new CountDownLatch(CLIENTS * OPERATIONS_PER_CLIENT / 3);
            List<Thread> threads = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                int clientNumber = c;
                threads.add(Thread.ofPlatform().name("lin-client-" + c).start(() -> {
                    Random random = new Random(1000 + clientNumber);
                    try (KvClient client = cluster.client()) {
                        for (int i = 0; i < OPERATIONS_PER_CLIENT; i++) {
                            history.runOne(client, clientNumber, i, random);
                            thirdDone.countDown();
                        }
                    }
                }));
            }
            thirdDone.await();
            Store leader = cluster.awaitLeader();
            cluster.stop(leader.storeId());
            cluster.start(leader.storeId());
            for (Thread thread : threads) {
                thread.join();
            }
        }
        assertTrue(history.completed() > CLIENTS * OPERATIONS_PER_CLIENT / 2,
                "most operations should complete: " + history.completed() + " completed, " + history.unknown() + " unknown");
        CheckResult result = history.check();
        assertEquals(true, result.isOk(), result.toString());
    }
}
