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
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class MemoryKvEngineTest extends KvEngineContractTest {
    @Override
    protected KvEngine newEngine() {
        return new MemoryKvEngine();
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

    @Test
    void aRestoreSourceIsIteratedOnce() {
        SortedRestoreSource source = new SortedRestoreSource(List.of(new KeyValue(key(1), key(1))).iterator(),
                Arrays::compareUnsigned, 0);
        source.entrySet().iterator();
        assertThrows(IllegalStateException.class, () -> source.entrySet().iterator());
    }

    /** Big-endian, so byte order is numeric order. */
    private static byte[] key(int i) {
        return new byte[] {'k', (byte) (i >>> 24), (byte) (i >>> 16), (byte) (i >>> 8), (byte) i};
    }
}
