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
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SIGKILL while several groups append, snapshot, rewrite, release segments and prune snapshots
 * through one {@link StoreLog}: after each kill, the store opens, every group holds every
 * acknowledged entry intact from its first index on, and its snapshot holds the data written for
 * that index. Rounds: {@code -Dloomkv.storageCrash.rounds} (default 8).
 */
class StorageCrashTest {
    private String childErrors() {
        try {
            String errors = java.nio.file.Files.readString(logs.resolve("child-stderr.txt"));
            return errors.length() > 4000 ? errors.substring(0, 4000) : errors;
        } catch (java.io.IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    private static final Logger LOG = LoggerFactory.getLogger(StorageCrashTest.class);

    @TempDir
    Path dir;
    @TempDir
    Path logs;

    @Test
    void acknowledgedEntriesAndSnapshotsOfEveryGroupSurviveSigkill() throws Exception {
        int rounds = Integer.getInteger("loomkv.storageCrash.rounds", 8);
        long seed = Long.getLong("loomkv.crash.seed", 20261123L);
        Random random = new Random(seed);
        long[] highestAcknowledged = new long[StorageCrashChild.GROUPS];
        long snapshotsSeen = 0;
        for (int round = 0; round < rounds; round++) {
            long killAfterMillis = 100 + random.nextInt(600);
            AtomicLongArray acknowledged = runChildAndKill(random.nextLong(), killAfterMillis);
            String where = "seed " + seed + " round " + round;
            try (StoreLog log = StoreLog.open(StorageCrashChild.options(dir))) {
                assertEquals(StorageCrashChild.GROUPS, log.groups().size(), where + ": groups " + log.groups().keySet());
                for (int g = 0; g < StorageCrashChild.GROUPS; g++) {
                    highestAcknowledged[g] = Math.max(highestAcknowledged[g], acknowledged.get(g));
                    snapshotsSeen += checkGroup(log.group(g), highestAcknowledged[g], where + " group " + g);
                }
                LOG.info("round {}: killed after {} ms; acknowledged {}, WAL segments {}", round, killAfterMillis,
                        java.util.Arrays.toString(highestAcknowledged), log.walSegmentCount());
            }
        }
        assertTrue(java.util.Arrays.stream(highestAcknowledged).allMatch(index -> index > 0), "some group acknowledged nothing");
        assertTrue(snapshotsSeen > 0, "no round got as far as a snapshot; the test proves less than it claims");
    }

    /** Checks one recovered group; returns 1 when it has a snapshot. */
    private static int checkGroup(GroupStorage storage, long acknowledged, String where) throws Exception {
        long first = storage.firstIndex();
        long last = storage.lastIndex();
        assertTrue(last >= acknowledged, where + ": acknowledged " + acknowledged + " but last index " + last);
        List<Entry> entries = storage.entries(first, last + 1, Long.MAX_VALUE);
        for (Entry entry : entries) {
            assertEquals(WalTestSupport.entry(entry.getIndex(), 1, entry.getData().size()), entry, where);
        }
        assertEquals(last - first + 1, entries.size(), where);
        long snapshotIndex = storage.snapshotMetadata().getIndex();
        assertEquals(first - 1, snapshotIndex, where);
        if (snapshotIndex == 0) {
            return 0;
        }
        try (InputStream data = storage.openSnapshotData(1 << 20)) {
            assertArrayEquals(StorageCrashChild.snapshotData(storage.groupId(), snapshotIndex), data.readAllBytes(), where);
        }
        assertEquals(1, storage.term(snapshotIndex));
        assertEquals(StorageCrashChild.VOTERS, storage.initialState().confState());
        return 1;
    }

    private AtomicLongArray runChildAndKill(long childSeed, long killAfterMillis) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                StorageCrashChild.class.getName(), dir.toString(), Long.toString(childSeed))
                .redirectError(logs.resolve("child-stderr.txt").toFile()).start();
        AtomicLongArray acknowledged = new AtomicLongArray(StorageCrashChild.GROUPS);
        CountDownLatch ready = new CountDownLatch(1);
        Thread reader = Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = lines.readLine()) != null) {
                    if (line.startsWith("READY")) {
                        ready.countDown();
                    } else if (line.startsWith("ACK ")) {
                        String[] fields = line.split(" ");
                        int group = Integer.parseInt(fields[1]);
                        long index = Long.parseLong(fields[2]);
                        acknowledged.accumulateAndGet(group, index, Math::max);
                    }
                }
            } catch (java.io.IOException e) {
                // The pipe closes when the child dies.
            }
        });
        try {
            assertTrue(ready.await(60, TimeUnit.SECONDS), "child did not start (exit " + (child.isAlive() ? "none" : child.exitValue()) + ")");
            Thread.sleep(killAfterMillis);
            assertTrue(child.isAlive(), () -> "child died before it was killed; exit " + child.exitValue() + ", stderr:\n" + childErrors());
        } finally {
            child.destroyForcibly();
            assertTrue(child.waitFor(60, TimeUnit.SECONDS), "child did not die");
        }
        reader.join(TimeUnit.SECONDS.toMillis(30));
        return acknowledged;
    }
}
