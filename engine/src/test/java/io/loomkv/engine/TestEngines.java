package io.loomkv.engine;

import io.loomkv.engine.bitcask.BitcaskKvEngine;
import io.loomkv.persist.bitcask.BitcaskOptions;
import io.loomkv.core.engine.PersistentKvEngine;
import io.loomkv.engine.btree.MvStoreKvEngine;
import io.loomkv.engine.btree.MvStoreOptions;
import io.loomkv.engine.rocksdb.RocksDbKvEngine;
import io.loomkv.engine.rocksdb.RocksDbOptions;
import java.nio.file.Path;

/** Opens an engine by name, in a directory of its own, for the tests and the crash child. */
public final class TestEngines {
    private TestEngines() {
    }

    public static PersistentKvEngine open(String name, Path directory, boolean syncWrites) {
        return switch (name) {
            // A small cache and memtable: tests open many engines at once.
            case "rocksdb" -> RocksDbKvEngine.open(RocksDbOptions.defaults(directory)
                    .withBlockCacheBytes(8L << 20).withWriteBufferBytes(4L << 20).withSyncWrites(syncWrites));
            case "btree" -> MvStoreKvEngine.open(MvStoreOptions.defaults(directory.resolve("store.mv.db")).withSyncWrites(syncWrites));
            case "bitcask" -> BitcaskKvEngine.open(BitcaskOptions.defaults(directory).withMaxFileSizeBytes(16L << 20), syncWrites);
            default -> throw new IllegalArgumentException("no engine named '" + name + "' (rocksdb, btree, bitcask)");
        };
    }
}
