package io.loomkv.engine.btree;

import io.loomkv.core.engine.PersistentKvEngine;
import io.loomkv.engine.PersistentKvEngineContractTest;
import io.loomkv.engine.TestEngines;
import java.nio.file.Path;

class MvStoreKvEngineTest extends PersistentKvEngineContractTest {
    @Override
    protected PersistentKvEngine open(Path directory, boolean syncWrites) {
        return TestEngines.open("btree", directory, syncWrites);
    }
}
