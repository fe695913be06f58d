package io.loomkv.core.engine;

/**
 * What an engine holds, for status and metrics.
 *
 * @param keys number of keys (exact or an estimate, as the engine says)
 * @param diskBytes bytes of the engine's files, logs included
 * @param memoryBytes bytes the engine holds in memory for caches, buffers and indexes (on or off the heap)
 */
public record EngineSizes(long keys, long diskBytes, long memoryBytes) {
    public EngineSizes {
        if (keys < 0 || diskBytes < 0 || memoryBytes < 0) {
            throw new IllegalArgumentException("sizes must not be negative: keys " + keys + ", diskBytes " + diskBytes
                    + ", memoryBytes " + memoryBytes);
        }
    }
}
