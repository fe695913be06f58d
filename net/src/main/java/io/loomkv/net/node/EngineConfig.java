package io.loomkv.net.node;

import java.util.Objects;

/**
 * The storage engine of a store and its options ({@code engine} and {@code engine.<name>.*} in the
 * node config). Sizes are per store: each group hosted gets its share (see {@link GroupEngines}).
 *
 * @param kind which engine holds the groups' data
 * @param rocksdbBlockCacheBytes RocksDB's block cache for the whole store
 * @param rocksdbWriteBufferBytes RocksDB's memtable size for the whole store
 * @param btreeCacheMegabytes MVStore's page cache for the whole store
 * @param bitcaskFileBytes BitCask's data file size before it rolls to a new one (per group)
 */
public record EngineConfig(EngineKind kind, long rocksdbBlockCacheBytes, long rocksdbWriteBufferBytes,
        int btreeCacheMegabytes, long bitcaskFileBytes) {
    public static final long DEFAULT_ROCKSDB_BLOCK_CACHE_BYTES = 256L << 20;
    public static final long DEFAULT_ROCKSDB_WRITE_BUFFER_BYTES = 64L << 20;
    public static final int DEFAULT_BTREE_CACHE_MEGABYTES = 64;
    public static final long DEFAULT_BITCASK_FILE_BYTES = 256L << 20;
    public static final long MIN_BITCASK_FILE_BYTES = 16L << 20;

    public EngineConfig {
        Objects.requireNonNull(kind, "kind");
        if (rocksdbBlockCacheBytes < (1 << 20)) {
            throw new IllegalArgumentException("rocksdb block cache must be at least 1 MiB, got " + rocksdbBlockCacheBytes);
        }
        if (rocksdbWriteBufferBytes < (1 << 20) || rocksdbWriteBufferBytes > (1L << 30)) {
            throw new IllegalArgumentException("rocksdb write buffer must be in 1 MiB..1 GiB, got " + rocksdbWriteBufferBytes);
        }
        if (btreeCacheMegabytes < 1 || btreeCacheMegabytes > 65_536) {
            throw new IllegalArgumentException("btree cache must be in 1..65536 MiB, got " + btreeCacheMegabytes);
        }
        if (bitcaskFileBytes < MIN_BITCASK_FILE_BYTES || bitcaskFileBytes > (1L << 40)) {
            throw new IllegalArgumentException("bitcask file size must be in 16 MiB..1 TiB (a file holds at least one batch"
                    + " of the largest value), got " + bitcaskFileBytes);
        }
    }

    /** {@code kind} with every option at its default. */
    public static EngineConfig defaults(EngineKind kind) {
        return new EngineConfig(kind, DEFAULT_ROCKSDB_BLOCK_CACHE_BYTES, DEFAULT_ROCKSDB_WRITE_BUFFER_BYTES,
                DEFAULT_BTREE_CACHE_MEGABYTES, DEFAULT_BITCASK_FILE_BYTES);
    }
}
