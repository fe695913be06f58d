package io.loomkv.persist.wal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.raft.proto.Entry;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Real processes, real SIGKILL, many groups: a child JVM appends to 40 groups from 8 threads at
 * once (releasing and rewriting now and then) and prints every acknowledged append; it is killed
 * at a seeded random moment; then every acknowledged entry of every group must be present and
 * intact, and no group's log may start later than the child released it. Repeated on the same
 * directory, so recovery of a recovered log is exercised too. Rounds:
 * {@code -Dloomkv.crash.rounds} (default 20), seed: {@code -Dloomkv.crash.seed}.
 */
class WalMultiGroupCrashTest {
    private String childErrors() {
        try {
            String errors = java.nio.file.Files.readString(logs.resolve("child-stderr.txt"));
            return errors.length() > 4000 ? errors.substring(0, 4000) : errors;
        } catch (java.io.IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    private static final Logger LOG = LoggerFactory.getLogger(WalMultiGroupCrashTest.class);

    @TempDir
    Path dir;
    @TempDir
    Path logs;

    @Test
    void everyAcknowledgedEntryOfEveryGroupSurvivesSigkill() throws Exception {
        int rounds = Integer.getInteger("loomkv.crash.rounds", 20);
        long seed = Long.getLong("loomkv.crash.seed", 20261205L);
        Random random = new Random(seed);
        Map<Long, Long> acknowledged = new ConcurrentHashMap<>();
        Map<Long, Long> released = new ConcurrentHashMap<>();
        for (int round = 0; round < rounds; round++) {
            long killAfterMillis = 50 + random.nextInt(500);
            String writer = round % 2 == 0 ? "platform" : "virtual";
            runChildAndKill(random.nextLong(), killAfterMillis, writer, acknowledged, released);
            String where = "seed " + seed + " round " + round;
            try (Wal wal = Wal.open(WalMultiGroupCrashChild.options(dir, false), WalTestSupport.KEEP_ALL)) {
                WalContents contents = wal.takeRecovered();
                for (Map.Entry<Long, Long> acked : acknowledged.entrySet()) {
                    checkGroup(contents.group(acked.getKey()), acked.getValue(), released.getOrDefault(acked.getKey(), 0L),
                            where + " group " + acked.getKey());
                }
                LOG.info("round {}: {} writer killed after {} ms, {} groups acknowledged up to {} entries in all, {} segments,"
                                + " {} groups' logs start past their first entry", round, writer, killAfterMillis, acknowledged.size(),
                        acknowledged.values().stream().mapToLong(Long::longValue).sum(), wal.segmentCount(),
                        contents.groups().values().stream().filter(group -> group.logStartIndex() > 0).count());
            }
        }
        assertTrue(acknowledged.size() > WalMultiGroupCrashChild.GROUPS / 2, "few groups acknowledged anything: " + acknowledged.keySet());
    }

    private static void checkGroup(GroupContents group, long acknowledged, long released, String where) {
        assertNotNull(group, where + ": acknowledged up to " + acknowledged + " but the group is gone");
        assertTrue(group.lastIndex() >= acknowledged, where + ": acknowledged up to " + acknowledged + " but recovered up to " + group.lastIndex());
        assertTrue(group.logStartIndex() <= released, where + ": the log starts after " + group.logStartIndex()
                + " but was released only up to " + released);
        assertEquals(group.lastIndex() - group.logStartIndex(), group.entries().size(), where);
        for (Entry entry : group.entries()) {
            assertEquals(WalMultiGroupCrashChild.entryAt(entry.getIndex()), entry, where + ": entry " + entry.getIndex() + " is damaged");
        }
    }

    private void runChildAndKill(long childSeed, long killAfterMillis, String writer, Map<Long, Long> acknowledged,
            Map<Long, Long> released) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                WalMultiGroupCrashChild.class.getName(), dir.toString(), Long.toString(childSeed), writer)
                .redirectError(logs.resolve("child-stderr.txt").toFile()).start();
        CountDownLatch ready = new CountDownLatch(1);
        Thread reader = Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = lines.readLine()) != null) {
                    if (line.startsWith("READY")) {
                        ready.countDown();
                    } else if (line.startsWith("ACK ") || line.startsWith("REL ")) {
                        String[] fields = line.split(" ");
                        Map<Long, Long> target = fields[0].equals("ACK") ? acknowledged : released;
                        target.merge(Long.parseLong(fields[1]), Long.parseLong(fields[2]), Math::max);
                    }
                }
            } catch (java.io.IOException e) {
                // The pipe closes when the child dies.
            }
        });
        try {
            assertTrue(ready.await(60, TimeUnit.SECONDS) || !child.isAlive(), "child did not start");
            assertTrue(child.isAlive(), () -> "child died before it was killed; exit " + child.exitValue() + ", stderr:\n" + childErrors());
            Thread.sleep(killAfterMillis);
            assertTrue(child.isAlive(), () -> "child died before it was killed; exit " + child.exitValue() + ", stderr:\n" + childErrors());
        } finally {
            child.destroyForcibly();
            assertTrue(child.waitFor(60, TimeUnit.SECONDS), "child did not die");
        }
        reader.join(TimeUnit.SECONDS.toMillis(30));
    }
}
