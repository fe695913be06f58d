package io.loomkv.engine.rocksdb;

import org.rocksdb.LRUCache;
import org.rocksdb.RocksDB;
import org.rocksdb.WriteBufferManager;

/**
 * The memory budget a store's RocksDB engines share (docs/engines.md, "One engine per group"):
 * one block cache and one write buffer manager for every group's database, instead of a slice of
 * each per group.
 *
 * <p>Why: with a slice per group, a store's memory grows with every group it comes to host (a
 * joined group brought its own slice on top), and a busy group could use only its slice of the
 * cache while idle groups' slices sat empty. Shared, the store's RocksDB memory is bounded by this
 * budget whatever the number of groups, and the hot groups get the cache. The memtables are
 * charged to the cache (RocksDB's "cost memtable to block cache"), so one figure bounds both:
 * {@link #capacityBytes()} = block cache + memtables; the write buffer manager flushes the
 * largest memtable once all of them together pass the memtable budget.
 *
 * <p>Owned by the store: engines opened with it never close it; close it after all of them.
 */
public final class RocksDbSharedMemory implements AutoCloseable {
    private final long blockCacheBytes;
    private final long writeBufferBytes;
    private final LRUCache cache;
    private final WriteBufferManager writeBuffers;

    /**
     * @param blockCacheBytes the cache for data, index and filter blocks, at least 1 MiB
     * @param writeBufferBytes the memtables of all the databases together, at least 1 MiB
     */
    public RocksDbSharedMemory(long blockCacheBytes, long writeBufferBytes) {
        if (blockCacheBytes < (1 << 20) || writeBufferBytes < (1 << 20)) {
            throw new IllegalArgumentException("a shared block cache and memtable budget are at least 1 MiB each, got "
                    + blockCacheBytes + " and " + writeBufferBytes);
        }
        RocksDB.loadLibrary();
        this.blockCacheBytes = blockCacheBytes;
        this.writeBufferBytes = writeBufferBytes;
        this.cache = new LRUCache(blockCacheBytes + writeBufferBytes);
        this.writeBuffers = new WriteBufferManager(writeBufferBytes, cache);
    }

    /**
     * Starts loading RocksDB's native library on a daemon thread and returns at once: the library
     * is extracted from the jar to a temporary file and linked, 0.8-1.7 s on this project's 2-core
     * machine, which a store can overlap with its WAL recovery. The first engine waits for it
     * ({@code RocksDB.loadLibrary} lets one caller load and the others wait), and gets the error
     * itself if it failed here.
     */
    public static void preloadNativeLibrary() {
        Thread.ofPlatform().daemon().name("rocksdb-library-load").start(() -> {
            try {
                RocksDB.loadLibrary();
            } catch (RuntimeException | LinkageError ignored) {
                // Reported where it matters: the first engine's own loadLibrary() fails the same way.
            }
        });
    }

    LRUCache cache() {
        return cache;
    }

    WriteBufferManager writeBuffers() {
        return writeBuffers;
    }

    /** The whole budget: block cache plus memtables. */
    public long capacityBytes() {
        return blockCacheBytes + writeBufferBytes;
    }

    public long memtableBudgetBytes() {
        return writeBufferBytes;
    }

    /** Bytes in use now: cached blocks and the memtables charged to the cache. */
    public long usageBytes() {
        return cache.getUsage();
    }

    @Override
    public void close() {
        writeBuffers.close();
        cache.close();
    }
}
