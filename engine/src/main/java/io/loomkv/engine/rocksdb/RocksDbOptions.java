package io.loomkv.engine.rocksdb;

import java.nio.file.Path;
import java.util.Objects;

/**
 * The few RocksDB settings loomkv exposes; everything else is fixed in {@link RocksDbKvEngine} with
 * its reason. See docs/engines.md for why the defaults are what they are.
 *
 * @param directory where the database lives (created if missing)
 * @param blockCacheBytes the LRU cache of uncompressed data, index and filter blocks
 * @param bloomBitsPerKey bits per key of the Bloom filters (10 gives about 1% false positives); 0 for none
 * @param writeBufferBytes size of one memtable before it is flushed to an L0 file
 * @param maxBackgroundJobs threads for flushes and compactions
 * @param syncWrites fsync the write-ahead log before every write returns
 */
public record RocksDbOptions(Path directory, long blockCacheBytes, int bloomBitsPerKey, long writeBufferBytes,
        int maxBackgroundJobs, boolean syncWrites) {
    public static final long DEFAULT_BLOCK_CACHE_BYTES = 256L << 20;
    public static final int DEFAULT_BLOOM_BITS_PER_KEY = 10;
    public static final long DEFAULT_WRITE_BUFFER_BYTES = 64L << 20;
    public static final int DEFAULT_MAX_BACKGROUND_JOBS = 2;

    public RocksDbOptions {
        Objects.requireNonNull(directory, "directory");
        if (blockCacheBytes < (1 << 20)) {
            throw new IllegalArgumentException("blockCacheBytes must be at least 1 MiB, got " + blockCacheBytes);
        }
        if (bloomBitsPerKey < 0 || bloomBitsPerKey > 32) {
            throw new IllegalArgumentException("bloomBitsPerKey must be in 0..32, got " + bloomBitsPerKey);
        }
        if (writeBufferBytes < (1 << 20) || writeBufferBytes > (1L << 30)) {
            throw new IllegalArgumentException("writeBufferBytes must be in 1 MiB..1 GiB, got " + writeBufferBytes);
        }
        if (maxBackgroundJobs < 1 || maxBackgroundJobs > 64) {
            throw new IllegalArgumentException("maxBackgroundJobs must be in 1..64, got " + maxBackgroundJobs);
        }
    }

    /** The defaults, writes not synced (the Raft log is; see {@code PersistentKvEngine}). */
    public static RocksDbOptions defaults(Path directory) {
        return new RocksDbOptions(directory, DEFAULT_BLOCK_CACHE_BYTES, DEFAULT_BLOOM_BITS_PER_KEY,
                DEFAULT_WRITE_BUFFER_BYTES, DEFAULT_MAX_BACKGROUND_JOBS, false);
    }

    public RocksDbOptions withSyncWrites(boolean sync) {
        return new RocksDbOptions(directory, blockCacheBytes, bloomBitsPerKey, writeBufferBytes, maxBackgroundJobs, sync);
    }

    public RocksDbOptions withBlockCacheBytes(long bytes) {
        return new RocksDbOptions(directory, bytes, bloomBitsPerKey, writeBufferBytes, maxBackgroundJobs, syncWrites);
    }

    public RocksDbOptions withWriteBufferBytes(long bytes) {
        return new RocksDbOptions(directory, blockCacheBytes, bloomBitsPerKey, bytes, maxBackgroundJobs, syncWrites);
    }
}
