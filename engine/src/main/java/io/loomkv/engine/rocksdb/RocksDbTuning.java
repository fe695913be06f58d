package io.loomkv.engine.rocksdb;

import java.util.List;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.Cache;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompactionStyle;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.LRUCache;
import org.rocksdb.WALRecoveryMode;

/**
 * The RocksDB settings of loomkv, in one place: the few from {@link RocksDbOptions}, the rest fixed
 * here with their reasons (docs/engines.md has the table). Every object made is registered with
 * the engine's {@link NativeResources}, which closes them after the database.
 */
final class RocksDbTuning {
    /** Larger than RocksDB's 4 KiB so a 4 KB value fits a block and the index stays small on big stores. */
    private static final long BLOCK_SIZE_BYTES = 16L << 10;
    /** Writes go on into the others while one memtable flushes. */
    private static final int MAX_WRITE_BUFFERS = 4;
    /** The metadata family holds one small key per group. */
    private static final long META_WRITE_BUFFER_BYTES = 4L << 20;
    /** Smooths the flushes' and compactions' writes instead of one large write-back at the end of a file. */
    private static final long BYTES_PER_SYNC = 1L << 20;
    private static final int KEEP_INFO_LOG_FILES = 4;
    /**
     * Per level: L0 and L1 are small and rewritten soon, so compressing them is CPU wasted on a
     * two-core machine; LZ4 (cheap) in the middle; Zstd at the bottom, which holds most of the data
     * and is rewritten least, so its better ratio pays.
     */
    private static final List<CompressionType> COMPRESSION_PER_LEVEL = List.of(CompressionType.NO_COMPRESSION,
            CompressionType.NO_COMPRESSION, CompressionType.LZ4_COMPRESSION, CompressionType.LZ4_COMPRESSION,
            CompressionType.LZ4_COMPRESSION, CompressionType.LZ4_COMPRESSION, CompressionType.ZSTD_COMPRESSION);

    final DBOptions database;
    final ColumnFamilyOptions dataFamily;
    final ColumnFamilyOptions metaFamily;

    /**
     * The settings of one database; with {@code shared} (may be null) it uses the store's cache and
     * memtable budget instead of a cache of its own of {@code options.blockCacheBytes()}.
     */
    RocksDbTuning(RocksDbOptions options, NativeResources resources, RocksDbSharedMemory shared) {
        Cache cache = shared != null ? shared.cache() : resources.add(new LRUCache(options.blockCacheBytes()));
        // Index and filter blocks in the cache: memory stays bounded by it on stores larger than memory.
        BlockBasedTableConfig table = new BlockBasedTableConfig()
                .setBlockCache(cache)
                .setBlockSize(BLOCK_SIZE_BYTES)
                .setCacheIndexAndFilterBlocks(true)
                .setPinL0FilterAndIndexBlocksInCache(true)
                .setOptimizeFiltersForMemory(true);
        if (options.bloomBitsPerKey() > 0) {
            table.setFilterPolicy(resources.add(new BloomFilter(options.bloomBitsPerKey())));
        }
        dataFamily = resources.add(new ColumnFamilyOptions()
                .setTableFormatConfig(table)
                .setWriteBufferSize(options.writeBufferBytes())
                .setMaxWriteBufferNumber(MAX_WRITE_BUFFERS)
                .setCompactionStyle(CompactionStyle.LEVEL)
                .setLevelCompactionDynamicLevelBytes(true)
                .setCompressionPerLevel(COMPRESSION_PER_LEVEL)
                .setBottommostCompressionType(CompressionType.ZSTD_COMPRESSION));
        metaFamily = resources.add(new ColumnFamilyOptions()
                .setTableFormatConfig(new BlockBasedTableConfig().setBlockCache(cache))
                .setWriteBufferSize(META_WRITE_BUFFER_BYTES));
        // Point-in-time recovery: replay the WAL up to the first damaged record, never past it, so
        // recovery ends on a batch boundary.
        DBOptions databaseOptions = new DBOptions();
        if (shared != null) {
            databaseOptions.setWriteBufferManager(shared.writeBuffers());
        }
        database = resources.add(databaseOptions
                .setCreateIfMissing(true)
                .setMaxBackgroundJobs(options.maxBackgroundJobs())
                .setWalRecoveryMode(WALRecoveryMode.PointInTimeRecovery)
                .setBytesPerSync(BYTES_PER_SYNC)
                .setKeepLogFileNum(KEEP_INFO_LOG_FILES));
    }
}
