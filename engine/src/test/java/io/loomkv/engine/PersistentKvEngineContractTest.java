package io.loomkv.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.engine.EngineSizes;
import io.loomkv.core.engine.EngineSnapshot;
import io.loomkv.core.engine.KeyValue;
import io.loomkv.core.engine.KvEngine;
import io.loomkv.core.engine.PersistentKvEngine;
import io.loomkv.core.engine.ScanPage;
import io.loomkv.core.engine.ScanRequest;
import io.loomkv.core.engine.WriteBatch;
import io.loomkv.core.engine.WriteOp;
import io.loomkv.core.kv.KvLimits;
import io.loomkv.persist.engine.KvEngineContractTest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The behaviour every {@link PersistentKvEngine} must have, on top of the {@link KvEngineContractTest}
 * it inherits: the applied index goes with its batch across close and reopen, range deletes, sizes,
 * edge-case keys and values, and a seeded random walk against a {@link TreeMap} model. (Crashes
 * are {@link EngineCrashTest}'s.)
 */
public abstract class PersistentKvEngineContractTest extends KvEngineContractTest {
    private static final long GROUP = 7;
    private static final long OTHER_GROUP = 9;

    @TempDir
    protected Path root;
    private int engines;

    /** Opens (or reopens) the engine whose files are in {@code directory}. */
    protected abstract PersistentKvEngine open(Path directory, boolean syncWrites);

    @Override
    protected KvEngine newEngine() {
        return open(root.resolve("contract-" + engines++), false);
    }

    private static WriteBatch batch(WriteOp... ops) {
        return new WriteBatch(List.of(ops));
    }

    private static WriteOp.Put put(String key, String value) {
        return new WriteOp.Put(bytes(key), bytes(value));
    }

    @Test
    void anIndexedBatchAndItsAppliedIndexSurviveCloseAndReopen() {
        Path directory = root.resolve("reopen");
        try (PersistentKvEngine first = open(directory, true)) {
            assertEquals(0, first.durableAppliedIndex(GROUP));
            first.write(batch(put("a", "1"), put("b", "2")), GROUP, 10);
            first.write(batch(put("c", "3"), new WriteOp.Delete(bytes("a"))), GROUP, 11);
            first.write(batch(put("x", "9")), OTHER_GROUP, 3);
            assertEquals(11, first.appliedIndex(GROUP));
            assertEquals(11, first.durableAppliedIndex(GROUP), "a synced write is durable when it returns");
        }
        try (PersistentKvEngine second = open(directory, true)) {
            assertEquals(11, second.durableAppliedIndex(GROUP));
            assertEquals(11, second.appliedIndex(GROUP));
            assertEquals(3, second.durableAppliedIndex(OTHER_GROUP));
            assertEquals(0, second.durableAppliedIndex(12345), "a group never written has index 0");
            assertNull(second.get(bytes("a")));
            assertArrayEquals(bytes("2"), second.get(bytes("b")));
            assertArrayEquals(bytes("3"), second.get(bytes("c")));
            assertArrayEquals(bytes("9"), second.get(bytes("x")));
            second.write(batch(put("d", "4")), GROUP, 12);
        }
        try (PersistentKvEngine third = open(directory, false)) {
            assertEquals(12, third.durableAppliedIndex(GROUP));
            assertArrayEquals(bytes("4"), third.get(bytes("d")));
        }
    }

    @Test
    void theAppliedIndexMustGrowAndARefusedWriteChangesNothing() {
        PersistentKvEngine persistent = (PersistentKvEngine) engine;
        persistent.write(batch(put("a", "1")), GROUP, 5);
        assertThrows(IllegalArgumentException.class, () -> persistent.write(batch(put("a", "2")), GROUP, 5));
        assertThrows(IllegalArgumentException.class, () -> persistent.write(batch(put("a", "2")), GROUP, 4));
        assertThrows(IllegalArgumentException.class, () -> persistent.write(batch(put("a", "2")), -1, 6));
        assertThrows(IllegalArgumentException.class, () -> persistent.write(batch(put("a", "2")), OTHER_GROUP, 0));
        assertThrows(IllegalArgumentException.class, () -> persistent.deleteRange(bytes("a"), bytes("b"), GROUP, 5));
        assertThrows(IllegalArgumentException.class, () -> persistent.deleteRange(bytes("b"), bytes("a"), GROUP, 6));
        assertArrayEquals(bytes("1"), persistent.get(bytes("a")));
        assertEquals(5, persistent.appliedIndex(GROUP));
        assertEquals(0, persistent.appliedIndex(OTHER_GROUP));
    }

    @Test
    void unsyncedWritesAreDurableOnceSyncReturns() {
        Path directory = root.resolve("unsynced");
        try (PersistentKvEngine unsynced = open(directory, false)) {
            unsynced.write(batch(put("a", "1")), GROUP, 1);
            unsynced.write(batch(put("b", "2")), GROUP, 2);
            assertEquals(2, unsynced.appliedIndex(GROUP));
            assertEquals(0, unsynced.durableAppliedIndex(GROUP), "nothing synced yet");
            unsynced.sync();
            assertEquals(2, unsynced.durableAppliedIndex(GROUP));
            unsynced.write(batch(put("c", "3")), GROUP, 3);
            assertEquals(2, unsynced.durableAppliedIndex(GROUP));
        }
        try (PersistentKvEngine reopened = open(directory, false)) {
            assertEquals(3, reopened.durableAppliedIndex(GROUP), "a clean close keeps every write");
            assertArrayEquals(bytes("3"), reopened.get(bytes("c")));
        }
    }

    @Test
    void deleteRangeRemovesExactlyTheHalfOpenRangeAndRecordsItsIndex() {
        Path directory = root.resolve("range");
        try (PersistentKvEngine ranged = open(directory, true)) {
            List<WriteOp> ops = new ArrayList<>();
            for (String key : List.of("a", "s1/a", "s1/b", "s1/\u00ff", "s2", "s2/a", "t", "u", "v")) {
                ops.add(put(key, key));
            }
            ranged.write(new WriteBatch(ops), GROUP, 1);
            ranged.deleteRange(bytes("s1/"), bytes("s2"), GROUP, 2);
            assertEquals(List.of("a", "s2", "s2/a", "t", "u", "v"), allKeys(ranged));
            ranged.deleteRange(bytes("u"), null, GROUP, 3);
            assertEquals(List.of("a", "s2", "s2/a", "t"), allKeys(ranged));
            ranged.deleteRange(bytes("zz"), null, GROUP, 4);
            ranged.deleteRange(bytes("b"), bytes("b"), GROUP, 5);
            assertEquals(List.of("a", "s2", "s2/a", "t"), allKeys(ranged));
            try (EngineSnapshot before = ranged.snapshot()) {
                ranged.deleteRange(new byte[0], null, GROUP, 6);
                assertEquals(4, all(before).size(), "a snapshot keeps the keys a range delete removed later");
            }
            assertEquals(List.of(), allKeys(ranged));
            ranged.put(bytes("after"), bytes("1"));
        }
        try (PersistentKvEngine reopened = open(directory, true)) {
            assertEquals(6, reopened.durableAppliedIndex(GROUP));
            assertEquals(List.of("after"), allKeys(reopened));
        }
    }

    @Test
    void sizesCountKeysAndTheBytesOnDiskAndInMemory() {
        PersistentKvEngine persistent = (PersistentKvEngine) engine;
        Random random = new Random(3);
        int keys = 4000;
        int valueBytes = 1024;
        for (int i = 0; i < keys; i += 100) {
            List<WriteOp> ops = new ArrayList<>();
            for (int j = i; j < i + 100; j++) {
                byte[] value = new byte[valueBytes];
                random.nextBytes(value);
                ops.add(new WriteOp.Put(bytes(String.format("key%06d", j)), value));
            }
            persistent.write(new WriteBatch(ops), GROUP, i + 1);
        }
        persistent.sync();
        EngineSizes sizes = persistent.sizes();
        assertEquals(keys, sizes.keys());
        assertTrue(sizes.diskBytes() >= (long) keys * valueBytes,
                "random values do not compress, so the disk holds at least their bytes: " + sizes);
        assertTrue(sizes.memoryBytes() > 0, "the engine holds something in memory after 4 MB of writes: " + sizes);
        long approximateBytes = persistent.approximateSizeBytes();
        assertTrue(approximateBytes >= (long) keys * valueBytes, "size " + approximateBytes);
    }

    @Test
    void emptyAndMaximumSizeKeysAndValuesRoundTripAndSurviveReopen() {
        byte[] maxKey = filled(KvLimits.DEFAULT_MAX_KEY_BYTES, (byte) 0xFF);
        byte[] maxValue = filled(KvLimits.DEFAULT_MAX_VALUE_BYTES, (byte) 0x5A);
        byte[] emptyValueKey = bytes("empty-value");
        Path directory = root.resolve("edges");
        try (PersistentKvEngine edges = open(directory, true)) {
            edges.write(batch(new WriteOp.Put(new byte[0], bytes("empty key")), new WriteOp.Put(maxKey, maxValue),
                    new WriteOp.Put(emptyValueKey, new byte[0])), GROUP, 1);
            checkEdges(edges, maxKey, maxValue, emptyValueKey);
        }
        try (PersistentKvEngine reopened = open(directory, true)) {
            checkEdges(reopened, maxKey, maxValue, emptyValueKey);
            try (EngineSnapshot snapshot = reopened.snapshot()) {
                List<KeyValue> seen = all(snapshot);
                assertEquals(3, seen.size());
                assertArrayEquals(new byte[0], seen.get(0).key(), "the empty key sorts first");
                assertArrayEquals(maxKey, seen.get(2).key(), "a key of 0xFF bytes sorts last");
            }
        }
    }

    private static void checkEdges(PersistentKvEngine edges, byte[] maxKey, byte[] maxValue, byte[] emptyValueKey) {
        assertArrayEquals(bytes("empty key"), edges.get(new byte[0]));
        assertArrayEquals(maxValue, edges.get(maxKey));
        assertArrayEquals(new byte[0], edges.get(emptyValueKey));
        ScanPage page = edges.scan(ScanRequest.range(new byte[0], null, 10));
        assertEquals(3, page.entries().size());
        assertArrayEquals(new byte[0], page.entries().get(0).key());
    }

    @Test
    void unicodeAndBinaryKeysKeepUnsignedByteOrderAcrossReopen() {
        TreeMap<byte[], byte[]> expected = new TreeMap<>(Arrays::compareUnsigned);
        for (String text : List.of("ключ", "キー", "\uD83D\uDE00 emoji", "e\u0301", "\u00e9", "plain", "\u0000nul")) {
            expected.put(bytes(text), bytes("v:" + text));
        }
        for (int b = 0; b < 256; b++) {
            expected.put(new byte[] {(byte) b}, new byte[] {(byte) b, (byte) (255 - b)});
            expected.put(new byte[] {(byte) b, 0}, new byte[] {(byte) b});
        }
        Path directory = root.resolve("unicode");
        try (PersistentKvEngine first = open(directory, false)) {
            List<WriteOp> ops = new ArrayList<>();
            expected.forEach((k, v) -> ops.add(new WriteOp.Put(k, v)));
            first.write(new WriteBatch(ops), GROUP, 1);
        }
        try (PersistentKvEngine reopened = open(directory, false)) {
            List<KeyValue> want = new ArrayList<>();
            expected.forEach((k, v) -> want.add(new KeyValue(k, v)));
            assertEquals(want, reopened.scan(ScanRequest.range(new byte[0], null, 10_000)).entries());
            try (EngineSnapshot snapshot = reopened.snapshot()) {
                assertEquals(want, all(snapshot));
            }
            assertArrayEquals(bytes("v:ключ"), reopened.get(bytes("ключ")));
        }
    }

    @Test
    void anIndexedRestoreKeepsOneGroupsIndexAndForgetsTheOthers() {
        Path directory = root.resolve("restore");
        try (PersistentKvEngine restored = open(directory, false)) {
            restored.write(batch(put("old", "1")), GROUP, 10);
            restored.write(batch(put("other", "1")), OTHER_GROUP, 20);
            try (EngineSnapshot before = restored.snapshot()) {
                restored.restore(List.of(new KeyValue(bytes("a"), bytes("1")), new KeyValue(bytes("b"), bytes("2"))).iterator(), GROUP, 100);
                assertEquals(List.of(new KeyValue(bytes("old"), bytes("1")), new KeyValue(bytes("other"), bytes("1"))), all(before),
                        "a snapshot taken before a restore keeps reading the old contents");
            }
            assertEquals(100, restored.durableAppliedIndex(GROUP), "a restore is synced");
            assertEquals(0, restored.appliedIndex(OTHER_GROUP));
            assertThrows(IllegalArgumentException.class, () -> restored.restore(
                    List.of(new KeyValue(bytes("z"), bytes("1")), new KeyValue(bytes("y"), bytes("2"))).iterator(), GROUP, 200));
            assertEquals(100, restored.appliedIndex(GROUP), "a failed restore changes no index");
            restored.write(batch(put("c", "3")), GROUP, 101);
        }
        try (PersistentKvEngine reopened = open(directory, false)) {
            assertEquals(List.of("a", "b", "c"), allKeys(reopened));
            assertEquals(101, reopened.durableAppliedIndex(GROUP));
            assertEquals(0, reopened.durableAppliedIndex(OTHER_GROUP));
            reopened.restore(List.<KeyValue>of().iterator());
            assertEquals(0, reopened.appliedIndex(GROUP), "a restore without an index forgets every group's");
            assertEquals(List.of(), allKeys(reopened));
        }
    }

    @Test
    void closeReleasesTheDirectoryAndEverythingOpenedFromTheEngine() {
        Path directory = root.resolve("close");
        PersistentKvEngine closing = open(directory, false);
        closing.write(batch(put("a", "1"), put("b", "2")), GROUP, 1);
        EngineSnapshot leftOpen = closing.snapshot();
        java.util.Iterator<KeyValue> halfRead = leftOpen.iterator();
        halfRead.next();
        closing.close();
        closing.close();
        assertThrows(IllegalStateException.class, halfRead::hasNext, "a snapshot dies with its engine");
        assertThrows(IllegalStateException.class, () -> closing.get(bytes("a")));
        assertThrows(IllegalStateException.class, () -> closing.write(batch(put("c", "3")), GROUP, 2));
        leftOpen.close();
        for (int cycle = 0; cycle < 20; cycle++) {
            try (PersistentKvEngine reopened = open(directory, false)) {
                assertEquals(cycle + 1, reopened.durableAppliedIndex(GROUP), "the directory's lock was released by the last close");
                try (EngineSnapshot snapshot = reopened.snapshot()) {
                    assertEquals(2, all(snapshot).size());
                }
                reopened.write(batch(put("a", "cycle " + cycle)), GROUP, cycle + 2);
            }
        }
    }

    /**
     * A seeded random walk of puts, deletes, indexed batches, range deletes, scans, snapshots and
     * reopens, checked step by step against a {@link TreeMap}. A failure names the seed; rerun it
     * with {@code -Dloomkv.engine.seed=...} and {@code -Dloomkv.engine.steps=...}.
     */
    @Test
    void randomOperationsMatchATreeMapModel() {
        long seed = Long.getLong("loomkv.engine.seed", 20261206L);
        int steps = Integer.getInteger("loomkv.engine.steps", 3000);
        Path directory = root.resolve("random");
        RandomWalk walk = new RandomWalk(new Random(seed), directory);
        try {
            for (int step = 0; step < steps; step++) {
                walk.step(step);
            }
            walk.checkAll("end");
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError("seed " + seed + " (rerun with -Dloomkv.engine.seed=" + seed + "): " + e.getMessage(), e);
        } finally {
            walk.engine.close();
        }
    }

    private final class RandomWalk {
        private final Random random;
        private final Path directory;
        private final TreeMap<byte[], byte[]> model = new TreeMap<>(Arrays::compareUnsigned);
        private final List<byte[]> keySpace = new ArrayList<>();
        private PersistentKvEngine engine;
        private long appliedIndex;

        RandomWalk(Random random, Path directory) {
            this.random = random;
            this.directory = directory;
            this.engine = open(directory, false);
            keySpace.add(new byte[0]);
            for (int i = 0; i < 300; i++) {
                byte[] key = new byte[1 + random.nextInt(12)];
                random.nextBytes(key);
                keySpace.add(key);
            }
        }

        void step(int step) {
            int choice = random.nextInt(100);
            String where = "step " + step;
            if (choice < 30) {
                byte[] key = key();
                byte[] value = value();
                engine.put(key, value);
                model.put(key, value);
            } else if (choice < 40) {
                byte[] key = key();
                engine.delete(key);
                model.remove(key);
            } else if (choice < 55) {
                List<WriteOp> ops = new ArrayList<>();
                for (int i = random.nextInt(20); i >= 0; i--) {
                    byte[] key = key();
                    if (random.nextInt(4) == 0) {
                        ops.add(new WriteOp.Delete(key));
                        model.remove(key);
                    } else {
                        byte[] value = value();
                        ops.add(new WriteOp.Put(key, value));
                        model.put(key, value);
                    }
                }
                engine.write(new WriteBatch(ops), GROUP, ++appliedIndex);
            } else if (choice < 58) {
                byte[] a = key();
                byte[] b = random.nextInt(5) == 0 ? null : key();
                byte[] from = b == null || Arrays.compareUnsigned(a, b) <= 0 ? a : b;
                byte[] to = b == null ? null : (from == a ? b : a);
                engine.deleteRange(from, to, GROUP, ++appliedIndex);
                (to == null ? model.tailMap(from, true) : model.subMap(from, true, to, false)).clear();
            } else if (choice < 75) {
                byte[] key = key();
                assertArrayEquals(model.get(key), engine.get(key), where + ": get");
                assertEquals(model.containsKey(key), engine.contains(key), where + ": contains");
            } else if (choice < 88) {
                checkScan(where);
            } else if (choice < 92) {
                checkSnapshot(where);
            } else if (choice < 93) {
                engine.close();
                engine = open(directory, random.nextBoolean());
                assertEquals(appliedIndex, engine.durableAppliedIndex(GROUP), where + ": applied index after reopen");
                checkAll(where + " after reopen");
            } else if (choice < 95) {
                engine.sync();
                assertEquals(appliedIndex, engine.durableAppliedIndex(GROUP), where + ": durable after sync");
            } else {
                byte[] key = key();
                assertArrayEquals(model.get(key), engine.get(key), where + ": get");
            }
        }

        private void checkScan(String where) {
            byte[] a = key();
            byte[] b = random.nextBoolean() ? null : key();
            byte[] start = b == null || Arrays.compareUnsigned(a, b) <= 0 ? a : b;
            byte[] end = b == null ? null : (start == a ? b : a);
            List<KeyValue> seen = new ArrayList<>();
            ScanRequest request = new ScanRequest(start, end, 1 + random.nextInt(50), 1 + random.nextInt(4000));
            for (int pages = 0; request != null; pages++) {
                assertTrue(pages <= model.size() + 1, where + ": scan does not end");
                ScanPage page = engine.scan(request);
                seen.addAll(page.entries());
                request = request.next(page);
            }
            List<KeyValue> want = new ArrayList<>();
            (end == null ? model.tailMap(start, true) : model.subMap(start, true, end, false))
                    .forEach((k, v) -> want.add(new KeyValue(k, v)));
            assertEquals(want, seen, where + ": scan");
        }

        private void checkSnapshot(String where) {
            List<KeyValue> want = contents();
            try (EngineSnapshot snapshot = engine.snapshot()) {
                for (int i = random.nextInt(5); i >= 0; i--) {
                    byte[] key = key();
                    byte[] value = value();
                    engine.write(new WriteBatch(List.of(new WriteOp.Put(key, value))), GROUP, ++appliedIndex);
                    model.put(key, value);
                }
                assertEquals(want, all(snapshot), where + ": snapshot");
            }
        }

        void checkAll(String where) {
            assertEquals(contents(), engine.scan(ScanRequest.range(new byte[0], null, ScanRequest.MAX_LIMIT)).entries(), where + ": contents");
        }

        private List<KeyValue> contents() {
            List<KeyValue> entries = new ArrayList<>();
            for (Map.Entry<byte[], byte[]> entry : model.entrySet()) {
                entries.add(new KeyValue(entry.getKey(), entry.getValue()));
            }
            return entries;
        }

        private byte[] key() {
            return keySpace.get(random.nextInt(keySpace.size()));
        }

        private byte[] value() {
            byte[] value = new byte[random.nextInt(10) == 0 ? random.nextInt(20_000) : random.nextInt(200)];
            random.nextBytes(value);
            return value;
        }
    }

    private static byte[] filled(int length, byte b) {
        byte[] bytes = new byte[length];
        Arrays.fill(bytes, b);
        return bytes;
    }

    private static List<KeyValue> all(EngineSnapshot snapshot) {
        List<KeyValue> list = new ArrayList<>();
        snapshot.iterator().forEachRemaining(list::add);
        return list;
    }

    private static List<String> allKeys(KvEngine engine) {
        List<String> keys = new ArrayList<>();
        for (KeyValue entry : engine.scan(ScanRequest.range(new byte[0], null, ScanRequest.MAX_LIMIT)).entries()) {
            keys.add(new String(entry.key(), StandardCharsets.UTF_8));
        }
        return keys;
    }
}
