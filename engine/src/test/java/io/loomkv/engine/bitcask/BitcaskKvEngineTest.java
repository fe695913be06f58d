package io.loomkv.engine.bitcask;

import io.loomkv.core.engine.PersistentKvEngine;
import io.loomkv.engine.PersistentKvEngineContractTest;
import io.loomkv.engine.TestEngines;
import java.nio.file.Path;

/** The engine contract on loomkv's BitCask (persist/bitcask) through its adapter. */
class BitcaskKvEngineTest extends PersistentKvEngineContractTest {
    @Override
    protected PersistentKvEngine open(Path directory, boolean syncWrites) {
        return TestEngines.open("bitcask", directory, syncWrites);
    }
}
