package io.loomkv.engine.rocksdb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.engine.WriteBatch;
import io.loomkv.core.engine.WriteOp;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several databases (a store's groups) on one shared block cache and memtable budget: all of them
 * charge it, closing one leaves the others working, and a database's own size report leaves the
 * shared cache out (it is the store's, counted once).
 */
class RocksDbSharedMemoryTest {
    private static final long GROUP = 1;

    @TempDir
    Path dir;

    @Test
    void databasesShareOneBudgetAndOutliveEachOther() {
        try (RocksDbSharedMemory shared = new RocksDbSharedMemory(8L << 20, 4L << 20)) {
            assertEquals(12L << 20, shared.capacityBytes());
            long before = shared.usageBytes();
            RocksDbKvEngine first = RocksDbKvEngine.open(RocksDbOptions.defaults(dir.resolve("g1")).withWriteBufferBytes(1L << 20), shared);
            RocksDbKvEngine second = RocksDbKvEngine.open(RocksDbOptions.defaults(dir.resolve("g2")).withWriteBufferBytes(1L << 20), shared);
            try {
                byte[] value = new byte[1024];
                // 640 KiB each, under the 1 MiB write buffer: no memtable is switched or flushed
                // while the sizes are compared (a flush in the background releases its charge to
                // the shared budget at a moment of its own, and one database could then report more
                // than the shared usage).
                for (int batch = 0; batch < 10; batch++) {
                    List<WriteOp> ops = new ArrayList<>();
                    for (int i = 0; i < 64; i++) {
                        ops.add(new WriteOp.Put(key(batch * 64 + i), value));
                    }
                    first.write(new WriteBatch(ops), GROUP, batch + 1);
                    second.write(new WriteBatch(ops), GROUP, batch + 1);
                }
                assertTrue(shared.usageBytes() > before, "the memtables of both are charged to the shared budget: "
                        + before + " -> " + shared.usageBytes());
                long firstMemory = first.sizes().memoryBytes();
                // Both wrote the same: the shared usage holds both memtables, one database reports its own
                // (had it counted the cache, which includes the other's memtable, it would be the larger).
                assertTrue(firstMemory > 0 && firstMemory < shared.usageBytes(),
                        "a database reports its memtables, not the store's cache: " + firstMemory + " vs " + shared.usageBytes());
                first.close();
                assertArrayEquals(value, second.get(key(5)), "closing one database leaves the shared cache to the others");
                second.write(new WriteBatch(List.of(new WriteOp.Put(key(9_999), value))), GROUP, 11);
                assertEquals(11, second.appliedIndex(GROUP));
            } finally {
                first.close();
                second.close();
            }
        }
    }

    @Test
    void aBudgetBelowOneMebibyteIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new RocksDbSharedMemory(1 << 10, 1L << 20));
        assertThrows(IllegalArgumentException.class, () -> new RocksDbSharedMemory(1L << 20, 0));
    }

    private static byte[] key(int i) {
        return String.format("%08d", i).getBytes(StandardCharsets.UTF_8);
    }
}
