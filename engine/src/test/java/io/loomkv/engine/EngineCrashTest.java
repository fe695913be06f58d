package io.loomkv.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.engine.KeyValue;
import io.loomkv.core.engine.PersistentKvEngine;
import io.loomkv.core.engine.ScanRequest;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Real processes, real SIGKILL, per engine: an {@link EngineCrashChild} applies numbered batches
 * and acknowledges the durable ones; it is killed at a seeded random moment; the engine is reopened
 * and must hold every acknowledged batch, each batch whole, with the applied index of exactly the
 * last batch it holds (so a restart replaying the log after that index neither loses nor repeats
 * one). Rounds alternate between synced writes and periodic {@code sync()}, on the same directory,
 * so recovery of a recovered engine is exercised too. Rounds: {@code -Dloomkv.crash.rounds}
 * (default 6), seed: {@code -Dloomkv.crash.seed}.
 */
class EngineCrashTest {
    private static final Logger LOG = LoggerFactory.getLogger(EngineCrashTest.class);

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"rocksdb", "btree", "bitcask"})
    void everyAcknowledgedBatchSurvivesSigkillWholeAndWithItsIndex(String engineName) throws Exception {
        int rounds = Integer.getInteger("loomkv.crash.rounds", 6);
        long seed = Long.getLong("loomkv.crash.seed", 20261206L);
        Random random = new Random(seed);
        long previousIndex = 0;
        for (int round = 0; round < rounds; round++) {
            String mode = round % 2 == 0 ? "sync" : "batched";
            long killAfterMillis = 50 + random.nextInt(500);
            long acknowledged = runChildAndKill(engineName, mode, killAfterMillis);
            String where = engineName + " seed " + seed + " round " + round + " (" + mode + ")";
            try (PersistentKvEngine engine = TestEngines.open(engineName, dir, true)) {
                long index = engine.durableAppliedIndex(EngineCrashChild.GROUP);
                assertTrue(index >= acknowledged, where + ": acknowledged up to " + acknowledged + " but the engine has " + index);
                assertTrue(index >= previousIndex, where + ": the index went back from " + previousIndex + " to " + index);
                checkState(engine, index, where);
                LOG.info("{}: killed after {} ms, {} acknowledged, applied index {}", where, killAfterMillis, acknowledged, index);
                previousIndex = index;
            }
        }
        assertTrue(previousIndex > 0, engineName + ": the children applied nothing at all");
    }

    /** The state after batches 1..index and nothing else: rows of the last write batch, the counter, the tmp keys since the last range delete. */
    private static void checkState(PersistentKvEngine engine, long index, String where) {
        if (index == 0) {
            assertEquals(List.of(), engine.scan(ScanRequest.range(new byte[0], null, 10)).entries(), where + ": empty");
            return;
        }
        long lastWrite = EngineCrashChild.lastWriteBatch(index);
        for (int row = 0; row < EngineCrashChild.ROWS; row++) {
            assertArrayEquals(EngineCrashChild.rowValue(lastWrite, row), engine.get(EngineCrashChild.rowKey(row)),
                    where + ": row " + row + " is not the one batch " + lastWrite + " wrote (half a batch, or a batch without its index)");
        }
        long writeBatches = lastWrite - lastWrite / EngineCrashChild.RANGE_DELETE_EVERY;
        assertEquals(writeBatches, ByteBuffer.wrap(engine.get(EngineCrashChild.COUNTER)).getLong(),
                where + ": the counter says how many write batches were applied, each once");
        long lastRangeDelete = index - index % EngineCrashChild.RANGE_DELETE_EVERY;
        for (KeyValue tmp : engine.scan(ScanRequest.range(EngineCrashChild.TMP_FROM, EngineCrashChild.TMP_TO, 100)).entries()) {
            long writtenBy = ByteBuffer.wrap(tmp.value()).getLong();
            assertTrue(writtenBy > lastRangeDelete && writtenBy <= index,
                    where + ": " + tmp + " was written by batch " + writtenBy + ", not after the range delete at " + lastRangeDelete);
        }
    }

    /** Starts the child, kills it {@code killAfterMillis} after it is ready, returns the highest acknowledged index. */
    private long runChildAndKill(String engineName, String mode, long killAfterMillis) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process child = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-Xmx256m",
                "-cp", System.getProperty("java.class.path"),
                EngineCrashChild.class.getName(), engineName, dir.toString(), mode)
                .redirectError(dir.resolveSibling(dir.getFileName() + "-child-stderr.txt").toFile()).start();
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
