package io.loomkv.net.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.lincheck.CheckResult;
import io.loomkv.core.lincheck.KvInput;
import io.loomkv.core.lincheck.KvModel;
import io.loomkv.core.lincheck.KvOutput;
import io.loomkv.core.lincheck.LinearizabilityChecker;
import io.loomkv.core.lincheck.Operation;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.client.KvClientException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
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
    void persistConcurrentLinearizable() throws Exception {
        List<Operation<KvInput, KvOutput>> history = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger completed = new AtomicInteger();
        AtomicInteger unknown = new AtomicInteger();
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
                            runOne(client, clientNumber, i, random, history, completed, unknown);
                            thirdDone.countDown();
                        }
                    }
                }));
            }
            thirdDone.await();
            KvNode leader = cluster.awaitLeader();
            cluster.stop(leader.nodeId());
            cluster.start(leader.nodeId());
            for (Thread thread : threads) {
                thread.join();
            }
        }
        assertTrue(completed.get() > CLIENTS * OPERATIONS_PER_CLIENT / 2,
                "most operations should complete: " + completed.get() + " completed, " + unknown.get() + " unknown");
        CheckResult result = LinearizabilityChecker.withDefaults().check(new KvModel(), List.copyOf(history));
        assertEquals(true, result.isOk(), result.toString());
    }

    private static void runOne(KvClient client, int clientNumber, int i, Random random,
            List<Operation<KvInput, KvOutput>> history, AtomicInteger completed, AtomicInteger unknown) {
        String key = KEYS.get(random.nextInt(KEYS.size()));
        int kind = random.nextInt(3);
        KvInput input = switch (kind) {
            case 0 -> new KvInput.Get(key);
            case 1 -> new KvInput.Put(key, "p" + clientNumber + "." + i);
            default -> new KvInput.Append(key, "a" + clientNumber + "." + i + ";");
        };
        long start = System.nanoTime();
        try {
            KvOutput output = switch (input) {
                case KvInput.Get get -> new KvOutput.Value(client.get(get.key()).orElse(null));
                case KvInput.Put put -> {
                    client.put(put.key(), put.value());
                    yield KvOutput.OK;
                }
                case KvInput.Append append -> {
                    client.append(com.google.protobuf.ByteString.copyFromUtf8(append.key()),
                            com.google.protobuf.ByteString.copyFromUtf8(append.value()));
                    yield KvOutput.OK;
                }
                default -> throw new IllegalStateException("unexpected " + input);
            };
            history.add(Operation.completed(clientNumber, input, start, output, System.nanoTime()));
            completed.incrementAndGet();
        } catch (KvClientException e) {
            unknown.incrementAndGet();
            if (!(input instanceof KvInput.Get)) {
                // A write without a definite answer may or may not have happened.
                history.add(Operation.pending(clientNumber, input, start));
            }
        }
    }
}
