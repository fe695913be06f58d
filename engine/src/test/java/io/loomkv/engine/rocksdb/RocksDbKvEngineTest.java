package io.loomkv.engine.rocksdb;

import io.loomkv.core.engine.PersistentKvEngine;
import io.loomkv.engine.PersistentKvEngineContractTest;
import io.loomkv.engine.TestEngines;
import java.nio.file.Path;

class RocksDbKvEngineTest extends PersistentKvEngineContractTest {
    @Override
    protected PersistentKvEngine open(Path directory, boolean syncWrites) {
        return TestEngines.open("rocksdb", directory, syncWrites);
    }
}
