package io.loomkv.persist.bitcask;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.NavigableMap;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Real processes, real SIGKILL: a child JVM writes synced batches (and merges in the background)
 * and prints each acknowledged batch number; it is killed at a seeded random moment. After each
 * kill the store must hold exactly the effect of batches 1..M, where M (from the metadata) is at
 * least the last acknowledged batch: every acknowledged batch survives and no half batch is
 * visible. Rounds share the directory, so recovery of a recovered store is exercised too.
 * Rounds: {@code -Dloomkv.crash.rounds} (default 6), seed: {@code -Dloomkv.crash.seed}.
 */
class BitcaskCrashTest {
    private static final Logger LOG = LoggerFactory.getLogger(BitcaskCrashTest.class);

    @TempDir
    Path dir;

    @Test
    void everyAcknowledgedBatchSurvivesSigkillAndNoHalfBatchIsVisible() throws Exception {
        int rounds = Integer.getInteger("loomkv.crash.rounds", 6);
        long seed = Long.getLong("loomkv.crash.seed", 20261206L);
        Random random = new Random(seed);
        long highestAcknowledged = 0;
        for (int round = 0; round < rounds; round++) {
            long killAfterMillis = 50 + random.nextInt(400);
            long acknowledged = runChildAndKill(seed, killAfterMillis);
            highestAcknowledged = Math.max(highestAcknowledged, acknowledged);
            String context = "seed " + seed + " round " + round;
            try (BitcaskStore store = BitcaskStore.open(BitcaskTestSupport.smallOptions(dir))) {
                long applied = BitcaskCrashChild.parseMetadata(store.metadata());
                assertTrue(applied >= highestAcknowledged, context + ": acknowledged batch " + highestAcknowledged
                        + " but the store holds batches up to " + applied);
                NavigableMap<byte[], byte[]> model = BitcaskTestSupport.newModel();
                for (long n = 1; n <= applied; n++) {
                    BitcaskCrashChild.batch(seed, n, model);
                }
                BitcaskTestSupport.assertContents(model, store, context + " (batches 1.." + applied + ")");
                BitcaskTestSupport.assertAbsent(model, store, BitcaskCrashChild.KEY_SPACE, context);
                LOG.info("round {}: killed after {} ms, {} acknowledged, {} recovered, {}", round, killAfterMillis, acknowledged, applied,
                        store.sizes());
            }
        }
        assertTrue(highestAcknowledged > 0, "the children acknowledged nothing at all");
    }

    /** Starts the child, kills it {@code killAfterMillis} after it is ready, returns the highest acknowledged batch. */
    private long runChildAndKill(long seed, long killAfterMillis) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                BitcaskCrashChild.class.getName(), dir.toString(), Long.toString(seed))
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
            assertEquals(true, child.waitFor(60, TimeUnit.SECONDS), "child did not die");
        }
        reader.join(TimeUnit.SECONDS.toMillis(30));
        return acknowledged.get();
    }
}
