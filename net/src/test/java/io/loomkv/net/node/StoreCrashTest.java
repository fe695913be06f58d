package io.loomkv.net.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.MultiGetEntry;
import io.loomkv.core.kv.proto.MultiGetResult;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.Slots;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.client.KvClientConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Real process, real SIGKILL, many groups: a child JVM runs a store hosting {@value #GROUPS} data
 * groups with fsync on (and snapshots every {@value #SNAPSHOT_EVERY} entries, so some are taken
 * mid-load); the test writes to every group through the client from {@value #WRITERS} threads,
 * records each acknowledged write, and kills the child with SIGKILL
 * ({@link Process#destroyForcibly()} on Linux) while writes are in flight. A new child on the same
 * data directory must hold every acknowledged write of every group. {@value #ROUNDS} rounds on the
 * same directory, so a recovered store is killed and recovered again.
 */
class StoreCrashTest {
    private static final Logger LOG = LoggerFactory.getLogger(StoreCrashTest.class);
    private static final int GROUPS = 8;
    private static final int WRITERS = 8;
    private static final int ROUNDS = 2;
    private static final long SNAPSHOT_EVERY = 100;
    /** Acknowledged writes each group must have in a round before the kill. */
    private static final int ACKS_PER_GROUP_BEFORE_KILL = 30;

    @TempDir
    Path dir;

    /** On the memory engine a restart rebuilds from snapshot and log; on rocksdb from the engine's own state and the log's tail. */
    @ParameterizedTest(name = "engine {0}")
    @EnumSource(value = EngineKind.class, names = {"MEMORY", "ROCKSDB"})
    void everyAcknowledgedWriteOfEveryGroupSurvivesSigkill(EngineKind engine) throws Exception {
        MemberAddress address = LocalCluster.newAddress(1);
        Path data = dir.resolve("store1");
        SlotLayout layout = SlotLayout.evenSplit(StoreLayouts.FIRST_VERSION, GROUPS, List.of(1L), 1);
        Map<ByteString, ByteString> acknowledged = new ConcurrentHashMap<>();
        Random random = new Random(20_251_207L);
        Process child = startChild(address, data, 0, engine);
        try {
            for (int round = 0; round < ROUNDS; round++) {
                AtomicLongArray acksPerGroup = loadAndKill(child, address, layout, round, acknowledged, random.nextInt(200));
                child = startChild(address, data, round + 1, engine);
                verify(address, layout, acknowledged);
                LOG.info("round {}: {} writes acknowledged before SIGKILL, per group {}; all {} acknowledged so far present after restart",
                        round, sum(acksPerGroup), acksPerGroup, acknowledged.size());
            }
        } finally {
            child.destroyForcibly();
            child.waitFor(60, TimeUnit.SECONDS);
        }
    }

    /**
     * Writes from {@value #WRITERS} threads until every group has {@value #ACKS_PER_GROUP_BEFORE_KILL}
     * acknowledged writes this round, lets the load run {@code extraMillis} more, kills the child
     * with writes in flight, and returns the acknowledgements per group (index group - 1).
     */
    private AtomicLongArray loadAndKill(Process child, MemberAddress address, SlotLayout layout, int round,
            Map<ByteString, ByteString> acknowledged, long extraMillis) throws Exception {
        AtomicLongArray acksPerGroup = new AtomicLongArray(GROUPS);
        AtomicBoolean killed = new AtomicBoolean();
        List<Thread> writers = new ArrayList<>();
        try (KvClient client = client(address, Duration.ofSeconds(3))) {
            for (int w = 0; w < WRITERS; w++) {
                int writer = w;
                writers.add(Thread.ofPlatform().name("crash-writer-" + w).start(() -> {
                    for (int n = 0; !killed.get(); n++) {
                        ByteString key = ByteString.copyFromUtf8("crash/" + round + "/" + writer + "/" + n);
                        ByteString value = ByteString.copyFromUtf8("value " + round + " " + writer + " " + n);
                        try {
                            client.put(key, value);
                        } catch (RuntimeException e) {
                            continue; // In flight at the kill, or refused on the way down: not acknowledged.
                        }
                        acknowledged.put(key, value);
                        acksPerGroup.incrementAndGet((int) groupOf(layout, key) - 1);
                    }
                }));
            }
            LocalCluster.awaitCondition(() -> "every group has " + ACKS_PER_GROUP_BEFORE_KILL + " acknowledged writes: "
                    + acksPerGroup, () -> {
                        for (int g = 0; g < GROUPS; g++) {
                            if (acksPerGroup.get(g) < ACKS_PER_GROUP_BEFORE_KILL) {
                                return false;
                            }
                        }
                        return true;
                    });
            Thread.sleep(extraMillis);
            assertTrue(child.isAlive(), "the store died before it was killed");
            child.destroyForcibly();
            assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the store did not die");
            killed.set(true);
            for (Thread writer : writers) {
                writer.join();
            }
        }
        return acksPerGroup;
    }

    /** Reads back every acknowledged write (in multi-gets of 100 keys, split per group by the client). */
    private static void verify(MemberAddress address, SlotLayout layout, Map<ByteString, ByteString> acknowledged) {
        List<ByteString> keys = new ArrayList<>(acknowledged.keySet());
        long[] perGroup = new long[GROUPS];
        try (KvClient client = client(address, Duration.ofSeconds(30))) {
            for (int from = 0; from < keys.size(); from += 100) {
                List<ByteString> chunk = keys.subList(from, Math.min(keys.size(), from + 100));
                MultiGetResult result = client.multiGet(chunk);
                assertEquals(chunk.size(), result.getEntriesCount());
                for (int i = 0; i < chunk.size(); i++) {
                    MultiGetEntry entry = result.getEntries(i);
                    ByteString key = chunk.get(i);
                    if (!entry.getFound() || !entry.getValue().equals(acknowledged.get(key))) {
                        fail("acknowledged write of " + key.toStringUtf8() + " (group " + groupOf(layout, key) + ") lost after SIGKILL: "
                                + (entry.getFound() ? "value " + entry.getValue().toStringUtf8() : "not found"));
                    }
                    perGroup[(int) groupOf(layout, key) - 1]++;
                }
            }
        }
        for (int g = 0; g < GROUPS; g++) {
            assertTrue(perGroup[g] > 0, "no acknowledged write of group " + (g + 1) + " to check");
        }
    }

    private static long groupOf(SlotLayout layout, ByteString key) {
        return layout.groupOf(Slots.slotOf(key));
    }

    private static long sum(AtomicLongArray counts) {
        long total = 0;
        for (int i = 0; i < counts.length(); i++) {
            total += counts.get(i);
        }
        return total;
    }

    private static KvClient client(MemberAddress address, Duration deadline) {
        return new KvClient(KvClientConfig.of(List.of(address.clientAddress()), LocalCluster.CLUSTER_ID)
                .withDeadline(deadline, Duration.ofSeconds(1)));
    }

    /** Starts a child store on {@code data}; returns once it serves. Its output goes to child-{start}.log in the test directory. */
    private Process startChild(MemberAddress address, Path data, int start, EngineKind engine) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Path log = dir.resolve("child-" + start + ".log");
        Process child = new ProcessBuilder(java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                StoreCrashChild.class.getName(), data.toString(), MemberAddress.format(address.clientAddress()),
                MemberAddress.format(address.peerAddress()), Integer.toString(GROUPS), Long.toString(SNAPSHOT_EVERY),
                engine.configName())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (readLog(log).lines().anyMatch(line -> line.startsWith("READY"))) {
                return child;
            }
            if (!child.isAlive()) {
                fail("the child store exited with " + child.exitValue() + " before serving:\n" + tail(readLog(log)));
            }
            Thread.sleep(20);
        }
        child.destroyForcibly();
        throw new AssertionError("the child store did not serve within 60 s:\n" + tail(readLog(log)));
    }

    private static String readLog(Path log) throws IOException {
        return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    }

    private static String tail(String text) {
        return text.length() <= 4_000 ? text : text.substring(text.length() - 4_000);
    }
}
