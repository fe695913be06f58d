package io.loomkv.persist.wal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.raft.proto.Entry;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Real processes, real SIGKILL: a child JVM appends with fsync and prints every acknowledged
 * index; it is killed at a seeded random moment; then every acknowledged entry must be present
 * and intact. Repeated for many rounds on the same directory, so recovery of a recovered log is
 * exercised too. Rounds: {@code -Dloomkv.crash.rounds} (default 20), seed: {@code -Dloomkv.crash.seed}.
 */
class WalCrashTest {
    private static final Logger LOG = LoggerFactory.getLogger(WalCrashTest.class);

    @TempDir
    Path dir;

    @Test
    void everyAcknowledgedEntrySurvivesSigkill() throws Exception {
        int rounds = Integer.getInteger("loomkv.crash.rounds", 20);
        long seed = Long.getLong("loomkv.crash.seed", 20261123L);
        Random random = new Random(seed);
        long acknowledgedTotal = 0;
        for (int round = 0; round < rounds; round++) {
            long killAfterMillis = 20 + random.nextInt(400);
            // Every other child runs its writer on a virtual thread: both writers must keep every acknowledged entry.
            String writer = round % 2 == 0 ? "platform" : "virtual";
            long acknowledged = runChildAndKill(random.nextLong(), killAfterMillis, writer);
            WalOptions options = WalOptions.defaults(dir).withSegmentSizeBytes(256 * 1024);
            try (Wal wal = Wal.open(options, WalTestSupport.KEEP_ALL)) {
                List<Entry> recovered = WalTestSupport.recoveredEntries(wal.takeRecovered());
                assertTrue(recovered.size() >= acknowledged,
                        "seed " + seed + " round " + round + ": acknowledged up to " + acknowledged + " but recovered " + recovered.size());
                for (int i = 0; i < recovered.size(); i++) {
                    Entry entry = recovered.get(i);
                    assertEquals(i + 1, entry.getIndex(), "seed " + seed + " round " + round);
                    byte[] data = entry.getData().toByteArray();
                    assertEquals(WalTestSupport.entry(i + 1, 1, data.length), entry,
                            "seed " + seed + " round " + round + ": entry " + (i + 1) + " is damaged");
                }
                LOG.info("round {}: {} writer killed after {} ms, {} acknowledged, {} recovered, {} segments",
                        round, writer, killAfterMillis, acknowledged, recovered.size(), wal.segmentCount());
            }
            acknowledgedTotal = Math.max(acknowledgedTotal, acknowledged);
        }
        assertTrue(acknowledgedTotal > 0, "the children acknowledged nothing at all");
    }

    /** Starts the child, kills it {@code killAfterMillis} after it is ready, returns the highest acknowledged index. */
    private long runChildAndKill(long childSeed, long killAfterMillis, String writer) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                WalCrashChild.class.getName(), dir.toString(), Long.toString(childSeed), writer)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        AtomicLong acknowledged = new AtomicLong();
        CountDownLatch ready = new CountDownLatch(1);
        Thread reader = Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = lines.readLine()) != null) {
                    if (line.startsWith("READY")) {
                        ready.countDown();
                    } else if (line.startsWith("ACK ")) {
                        acknowledged.accumulateAndGet(Long.parseLong(line.substring(4)), Math::max);
                    }
                }
            } catch (java.io.IOException e) {
                // The pipe closes when the child dies.
            }
        });
        try {
            assertTrue(ready.await(60, TimeUnit.SECONDS) || !child.isAlive(), "child did not start");
            assertTrue(child.isAlive(), "child died before it was killed; exit " + (child.isAlive() ? "" : child.exitValue()));
            Thread.sleep(killAfterMillis);
        } finally {
            child.destroyForcibly();
            assertTrue(child.waitFor(60, TimeUnit.SECONDS), "child did not die");
        }
        reader.join(TimeUnit.SECONDS.toMillis(30));
        return acknowledged.get();
    }
}
