package io.loomkv.persist.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.loomkv.core.engine.EngineSnapshot;
import io.loomkv.core.engine.KvEngine;
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
}
