package io.loomkv.net.node;

import io.loomkv.core.engine.KvEngine;
import io.loomkv.core.engine.PersistentKvEngine;
import io.loomkv.persist.engine.MemoryKvEngine;

/**
 * An engine's size for the store's gauges, read from any thread at scrape time: the memory
 * engine's approximate counts, a persistent engine's own {@code sizes()} (bytes on disk).
 */
final class EngineSizeProbe {
    private EngineSizeProbe() {
    }

    static long keys(KvEngine engine) {
        if (engine instanceof MemoryKvEngine memory) {
            return memory.approximateKeyCount();
        }
        return engine instanceof PersistentKvEngine persistent ? persistent.sizes().keys() : 0;
    }

    /** Bytes of the data: in memory for the memory engine, on disk for the others. */
    static long bytes(KvEngine engine) {
        if (engine instanceof MemoryKvEngine memory) {
            return memory.approximateSizeBytes();
        }
        return engine instanceof PersistentKvEngine persistent ? persistent.sizes().diskBytes() : 0;
    }
}
