package io.loomkv.engine.btree;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.loomkv.core.engine.PersistentKvEngine;
import io.loomkv.core.engine.WriteBatch;
import io.loomkv.core.engine.WriteOp;
import io.loomkv.engine.PersistentKvEngineContractTest;
import io.loomkv.engine.TestEngines;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MvStoreKvEngineTest extends PersistentKvEngineContractTest {
    @Override
    protected PersistentKvEngine open(Path directory, boolean syncWrites) {
        return TestEngines.open("btree", directory, syncWrites);
    }

    /** Compaction runs inside the write path (MVStore's background thread is off): it must keep every latest value. */
    @Test
    void frequentCompactionKeepsTheLatestValues() {
        MvStoreOptions options = new MvStoreOptions(root.resolve("compact/store.mv.db"), 4, false, false, 7);
        int keys = 50;
        int rounds = 60;
        try (MvStoreKvEngine engine = MvStoreKvEngine.open(options)) {
            for (int round = 1; round <= rounds; round++) {
                List<WriteOp> ops = new ArrayList<>();
                for (int key = 0; key < keys; key++) {
                    ops.add(new WriteOp.Put(key(key), value(round, key)));
                }
                engine.write(new WriteBatch(ops), 1, round);
            }
        }
        try (MvStoreKvEngine reopened = MvStoreKvEngine.open(options)) {
            assertEquals(rounds, reopened.durableAppliedIndex(1));
            assertEquals(keys, reopened.approximateKeyCount());
            for (int key = 0; key < keys; key++) {
                assertArrayEquals(value(rounds, key), reopened.get(key(key)), "key " + key);
            }
        }
    }

    private static byte[] key(int key) {
        return ByteBuffer.allocate(Integer.BYTES).putInt(key).array();
    }

    private static byte[] value(int round, int key) {
        return ByteBuffer.allocate(512).putInt(round).putInt(key).array();
    }
}
