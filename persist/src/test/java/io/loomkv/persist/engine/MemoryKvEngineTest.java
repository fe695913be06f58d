package io.loomkv.persist.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.loomkv.core.engine.EngineSnapshot;
import io.loomkv.core.engine.KeyValue;
import io.loomkv.core.engine.KvEngine;
import io.loomkv.core.engine.ScanPage;
import io.loomkv.core.engine.ScanRequest;
import io.loomkv.core.engine.WriteBatch;
import io.loomkv.core.engine.WriteOp;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class MemoryKvEngineTest extends KvEngineContractTest {
    @Override
    protected KvEngine newEngine() {
        return new MemoryKvEngine();
    }

    /**
     * The snapshot walks the live map with its weakly consistent iterator and relies on the
     * overlay for what that iterator may miss: views read slowly while two threads put and delete
     * the same keys must each equal the state when they were taken.
     */
    @Test
    void snapshotsReadDuringConcurrentPutsAndDeletesEqualTheirPointInTime() throws Exception {
        for (int round = 0; round < 20; round++) {
            MemoryKvEngine engine = new MemoryKvEngine();
            SplittableRandom random = new SplittableRandom(round);
            TreeMap<String, String> model = new TreeMap<>();
            for (int i = 0; i < 5_000; i++) {
                String key = "k" + random.nextInt(8_000);
                if (random.nextInt(5) == 0) {
                    model.remove(key);
                    engine.delete(key.getBytes(StandardCharsets.UTF_8));
                } else {
                    model.put(key, "v" + i);
                    engine.put(key.getBytes(StandardCharsets.UTF_8), ("v" + i).getBytes(StandardCharsets.UTF_8));
                }
            }
            List<String> expected = new ArrayList<>();
            model.forEach((key, value) -> expected.add(key + "=" + value));
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            List<String> seen = new ArrayList<>();
            try (EngineSnapshot snapshot = engine.snapshot()) {
                List<Thread> writers = new ArrayList<>();
                for (int w = 0; w < 2; w++) {
                    SplittableRandom writes = new SplittableRandom(round * 31L + w);
                    writers.add(Thread.ofPlatform().start(() -> {
                        for (int i = 0; !stop.get() && i < 200_000; i++) {
                            byte[] key = ("k" + writes.nextInt(8_000)).getBytes(StandardCharsets.UTF_8);
                            if (writes.nextBoolean()) {
                                engine.put(key, ("w" + i).getBytes(StandardCharsets.UTF_8));
                            } else {
                                engine.delete(key);
                            }
                        }
                    }));
                }
                var iterator = snapshot.iterator();
                while (iterator.hasNext()) {
                    KeyValue entry = iterator.next();
                    seen.add(new String(entry.key(), StandardCharsets.UTF_8) + "=" + new String(entry.value(), StandardCharsets.UTF_8));
                    if (seen.size() % 100 == 0) {
                        java.util.concurrent.locks.LockSupport.parkNanos(50_000); // let the writers run mid-walk
                    }
                }
                stop.set(true);
                for (Thread writer : writers) {
                    writer.join();
                }
            }
            assertEquals(expected, seen, "round " + round);
        }
    }

    @Test
    void closingASnapshotStopsRecordingBeforeImages() {
        MemoryKvEngine memory = (MemoryKvEngine) engine;
        EngineSnapshot first = memory.snapshot();
        EngineSnapshot second = memory.snapshot();
        assertEquals(2, memory.openSnapshotCount());
        first.close();
        second.close();
        assertEquals(0, memory.openSnapshotCount());
    }

    /** The skip list is linked from the sorted input in one pass: every key must be found, in order, and stay writable. */
    @Test
    void aLargeRestoreFindsEveryKeyScansInOrderAndStaysWritable() {
        int keys = 10_001;
        List<KeyValue> entries = new ArrayList<>();
        for (int i = 0; i < keys; i++) {
            entries.add(new KeyValue(key(i), ("v" + i).getBytes(StandardCharsets.UTF_8)));
        }
        engine.put(key(keys + 5), new byte[] {1}); // replaced by the restore
        engine.restore(entries.iterator());
        assertEquals(keys, engine.approximateKeyCount());
        for (int i = 0; i < keys; i++) {
            assertArrayEquals(("v" + i).getBytes(StandardCharsets.UTF_8), engine.get(key(i)), "key " + i);
        }
        assertNull(engine.get(key(keys + 5)));
        ScanPage page = engine.scan(ScanRequest.range(key(4_000), key(4_100), 1_000));
        assertEquals(100, page.entries().size());
        for (int i = 0; i < 100; i++) {
            assertArrayEquals(key(4_000 + i), page.entries().get(i).key());
        }
        engine.put(key(keys), new byte[] {2});
        engine.delete(key(0));
        assertEquals(keys, engine.approximateKeyCount());
        assertNull(engine.get(key(0)));
        assertArrayEquals(new byte[] {2}, engine.get(key(keys)));
    }

    /**
     * The ordered map and the hash index hold the same cells: after a seeded mix of new keys,
     * overwrites, deletes, batches and a restore, gets, existence checks, a full scan, a snapshot
     * and the counts all agree with a plain sorted model.
     */
    @Test
    void theHashIndexAndTheOrderedMapStayInStep() {
        MemoryKvEngine memory = (MemoryKvEngine) engine;
        TreeMap<byte[], byte[]> model = new TreeMap<>(Arrays::compareUnsigned);
        SplittableRandom random = new SplittableRandom(20261207);
        for (int step = 0; step < 20_000; step++) {
            byte[] key = key(random.nextInt(500));
            byte[] value = ("v" + step).getBytes(StandardCharsets.UTF_8);
            switch (random.nextInt(10)) {
                case 0, 1, 2 -> {
                    memory.delete(key);
                    model.remove(key);
                }
                case 3 -> {
                    byte[] other = key(random.nextInt(500));
                    memory.write(new WriteBatch(List.of(new WriteOp.Put(key, value), new WriteOp.Delete(other))));
                    model.put(key, value);
                    model.remove(other);
                }
                default -> {
                    memory.put(key, value);
                    model.put(key, value);
                }
            }
            if (step == 10_000) {
                List<KeyValue> entries = new ArrayList<>();
                model.forEach((k, v) -> entries.add(new KeyValue(k, v)));
                memory.restore(entries.iterator());
            }
        }
        long expectedBytes = 0;
        for (int i = 0; i < 500; i++) {
            byte[] expected = model.get(key(i));
            assertArrayEquals(expected, memory.get(key(i)), "key " + i);
            assertEquals(expected != null, memory.contains(key(i)), "key " + i);
        }
        List<KeyValue> scanned = memory.scan(new ScanRequest(new byte[0], null, 1_000, Long.MAX_VALUE)).entries();
        List<KeyValue> snapshotted = new ArrayList<>();
        try (EngineSnapshot snapshot = memory.snapshot()) {
            snapshot.iterator().forEachRemaining(snapshotted::add);
        }
        List<String> expected = new ArrayList<>();
        for (var entry : model.entrySet()) {
            expected.add(Arrays.toString(entry.getKey()) + "=" + new String(entry.getValue(), StandardCharsets.UTF_8));
            expectedBytes += entry.getKey().length + entry.getValue().length;
        }
        assertEquals(expected, scanned.stream().map(kv -> Arrays.toString(kv.key()) + "=" + new String(kv.value(), StandardCharsets.UTF_8)).toList());
        assertEquals(expected, snapshotted.stream().map(kv -> Arrays.toString(kv.key()) + "=" + new String(kv.value(), StandardCharsets.UTF_8)).toList());
        assertEquals(model.size(), memory.approximateKeyCount());
        MemoryKvEngine single = new MemoryKvEngine();
        single.put(key(0), new byte[] {1});
        long overheadPerKey = single.approximateSizeBytes() - key(0).length - 1;
        assertEquals(expectedBytes + model.size() * overheadPerKey, memory.approximateSizeBytes(),
                "the keys and values plus the same overhead per key");
    }

    @Test
    void aRestoreSourceIsIteratedOnce() {
        SortedRestoreSource<byte[]> source = new SortedRestoreSource<>(List.of(new KeyValue(key(1), key(1))).iterator(),
                Arrays::compareUnsigned, 0, KeyValue::value);
        source.entrySet().iterator();
        assertThrows(IllegalStateException.class, () -> source.entrySet().iterator());
    }

    /** Big-endian, so byte order is numeric order. */
    private static byte[] key(int i) {
        return new byte[] {'k', (byte) (i >>> 24), (byte) (i >>> 16), (byte) (i >>> 8), (byte) i};
    }
}
