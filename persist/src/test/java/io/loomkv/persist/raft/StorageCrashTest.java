package io.loomkv.persist.raft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.raft.proto.Entry;
import io.loomkv.persist.wal.WalTestSupport;
import java.io.BufferedReader;
import java.io.InputStream;
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
 * SIGKILL while appending, snapshotting, releasing segments and pruning snapshots: after each
 * kill, the storage opens, holds every acknowledged entry intact from its first index on, and its
 * snapshot holds the data written for that index. Rounds: {@code -Dloomkv.storageCrash.rounds} (default 8).
 */
class StorageCrashTest {
    private static final Logger LOG = LoggerFactory.getLogger(StorageCrashTest.class);

    @TempDir
    Path dir;

    @Test
    void acknowledgedEntriesAndSnapshotsSurviveSigkill() throws Exception {
        int rounds = Integer.getInteger("loomkv.storageCrash.rounds", 8);
        long seed = Long.getLong("loomkv.crash.seed", 20261123L);
        Random random = new Random(seed);
        long highestAcknowledged = 0;
        long snapshotsSeen = 0;
        for (int round = 0; round < rounds; round++) {
            long killAfterMillis = 100 + random.nextInt(600);
            highestAcknowledged = Math.max(highestAcknowledged, runChildAndKill(random.nextLong(), killAfterMillis));
            String where = "seed " + seed + " round " + round;
            try (DurableStorage storage = DurableStorage.open(DurableStorageOptions.defaults(dir).withSegmentSizeBytes(256 * 1024))) {
                long first = storage.firstIndex();
                long last = storage.lastIndex();
                assertTrue(last >= highestAcknowledged, where + ": acknowledged " + highestAcknowledged + " but last index " + last);
                List<Entry> entries = storage.entries(first, last + 1, Long.MAX_VALUE);
                for (Entry entry : entries) {
                    assertEquals(WalTestSupport.entry(entry.getIndex(), 1, entry.getData().size()), entry, where);
                }
                assertEquals(last - first + 1, entries.size(), where);
                long snapshotIndex = storage.snapshotMetadata().getIndex();
                assertEquals(first - 1, snapshotIndex, where);
                if (snapshotIndex > 0) {
                    snapshotsSeen++;
                    try (InputStream data = storage.openSnapshotData(1 << 20)) {
                        assertArrayEquals(StorageCrashChild.snapshotData(snapshotIndex), data.readAllBytes(), where);
                    }
                    assertEquals(1, storage.term(snapshotIndex));
                    assertEquals(StorageCrashChild.VOTERS, storage.initialState().confState());
                }
                LOG.info("round {}: killed after {} ms; acknowledged {}, log {}..{}, snapshot at {}",
                        round, killAfterMillis, highestAcknowledged, first, last, snapshotIndex);
            }
        }
        assertTrue(highestAcknowledged > 0, "the children acknowledged nothing");
        assertTrue(snapshotsSeen > 0, "no round got as far as a snapshot; the test proves less than it claims");
    }

    private long runChildAndKill(long childSeed, long killAfterMillis) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                StorageCrashChild.class.getName(), dir.toString(), Long.toString(childSeed))
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
            assertTrue(ready.await(60, TimeUnit.SECONDS), "child did not start (exit " + (child.isAlive() ? "none" : child.exitValue()) + ")");
            Thread.sleep(killAfterMillis);
            assertTrue(child.isAlive(), "child died before it was killed; exit " + (child.isAlive() ? "" : child.exitValue()));
        } finally {
            child.destroyForcibly();
            assertTrue(child.waitFor(60, TimeUnit.SECONDS), "child did not die");
        }
        reader.join(TimeUnit.SECONDS.toMillis(30));
        return acknowledged.get();
    }
}
