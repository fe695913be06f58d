package io.loomkv.engine.rocksdb;

import io.loomkv.core.engine.EngineSizes;
import io.loomkv.core.engine.EngineSnapshot;
import io.loomkv.core.engine.KeyValue;
import io.loomkv.core.engine.Keys;
import io.loomkv.core.engine.PersistentKvEngine;
import io.loomkv.core.engine.ScanPage;
import io.loomkv.core.engine.ScanRequest;
import io.loomkv.core.engine.WriteBatch;
import io.loomkv.core.engine.WriteOp;
import io.loomkv.engine.AppliedIndexes;
import io.loomkv.engine.DirectorySize;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.FlushOptions;
import org.rocksdb.Options;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The LSM-tree engine: RocksDB through its Java binding.
 *
 * <p>Layout: user keys live in the column family {@code data.<generation>}; the default column
 * family holds only metadata (which generation is current, and {@code applied/<group>} -> applied
 * index), so no user key can collide with it. An indexed write is one RocksDB write batch across
 * both families, which the write-ahead log makes atomic across a crash. A restore loads a new
 * generation beside the old one (without the WAL, then flushed), switches the metadata in one
 * synced write, and drops the old family; a crash before the switch leaves a stray generation,
 * which {@link #open} drops.
 *
 * <p>Native resources are closed in the reverse order of their creation: snapshots and iterators,
 * column family handles, the database, then the option objects, filter and cache they point to.
 */
public final class RocksDbKvEngine implements PersistentKvEngine {
    private static final Logger LOG = LoggerFactory.getLogger(RocksDbKvEngine.class);
    private static final byte[] GENERATION_KEY = "data-generation".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] APPLIED_PREFIX = "applied/".getBytes(StandardCharsets.US_ASCII);
    private static final String DATA_PREFIX = "data.";
    /** A restore writes the new family in batches of about this size, so it never holds the data in memory. */
    private static final long RESTORE_BATCH_BYTES = 4L << 20;
    /** The zero-length buffer {@link #contains} reads into: RocksDB reports the size and copies nothing. */
    private static final byte[] NO_VALUE_BUFFER = new byte[0];
    static {
        RocksDB.loadLibrary();
    }

    private final RocksDbOptions options;
    private final NativeResources resources;
    /** Whether the block cache is the store's shared one (set once, right after open). */
    private volatile boolean sharedCache;
    private final RocksDB db;
    private final ColumnFamilyHandle meta;
    private final ColumnFamilyOptions dataFamilyOptions;
    private final WriteOptions writeOptions;
    private final WriteOptions syncedWriteOptions;
    private final WriteOptions unloggedWriteOptions;
    private final FlushOptions flushOptions;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final Set<RocksDbSnapshot> openSnapshots = ConcurrentHashMap.newKeySet();
    private final AppliedIndexes applied;
    private volatile DataFamily data;
    private volatile boolean closed;

    private RocksDbKvEngine(RocksDbOptions options, NativeResources resources, RocksDB db, ColumnFamilyHandle meta,
            ColumnFamilyOptions dataFamilyOptions, DataFamily data, Map<Long, Long> storedIndexes) {
        this.options = options;
        this.resources = resources;
        this.db = db;
        this.meta = meta;
        this.dataFamilyOptions = dataFamilyOptions;
        this.data = data;
        this.applied = new AppliedIndexes(storedIndexes);
        this.writeOptions = resources.add(new WriteOptions().setSync(options.syncWrites()));
        this.syncedWriteOptions = resources.add(new WriteOptions().setSync(true));
        this.unloggedWriteOptions = resources.add(new WriteOptions().setDisableWAL(true));
        this.flushOptions = resources.add(new FlushOptions().setWaitForFlush(true));
    }

    /** Opens the database in {@code options.directory()}, creating it if missing. */
    public static RocksDbKvEngine open(RocksDbOptions options) {
        return open(options, null);
    }

    /**
     * Opens the database with the store's shared cache and memtable budget ({@code shared}; null:
     * a cache of its own of {@code options.blockCacheBytes()}); {@code options.writeBufferBytes()}
     * is then the size of one memtable of this database, and the shared budget bounds them all.
     */
    public static RocksDbKvEngine open(RocksDbOptions options, RocksDbSharedMemory shared) {
        NativeResources resources = new NativeResources();
        try {
            Files.createDirectories(options.directory());
            RocksDbTuning tuning = new RocksDbTuning(options, resources, shared);
            RocksDbKvEngine engine = openDatabase(options, resources, tuning.database, tuning.dataFamily, tuning.metaFamily);
            engine.sharedCache = shared != null;
            return engine;
        } catch (IOException e) {
            resources.close();
            throw new UncheckedIOException("cannot create " + options.directory(), e);
        } catch (RocksDBException e) {
            resources.close();
            throw failure("open " + options.directory(), e);
        } catch (RuntimeException | Error e) {
            resources.close();
            throw e;
        }
    }

    private static RocksDbKvEngine openDatabase(RocksDbOptions options, NativeResources resources, DBOptions dbOptions,
            ColumnFamilyOptions dataFamilyOptions, ColumnFamilyOptions metaFamilyOptions) throws RocksDBException {
        String path = options.directory().toString();
        List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
        descriptors.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, metaFamilyOptions));
        for (byte[] name : existingFamilies(options)) {
            String text = new String(name, StandardCharsets.UTF_8);
            if (text.startsWith(DATA_PREFIX)) {
                descriptors.add(new ColumnFamilyDescriptor(name, dataFamilyOptions));
            } else if (!java.util.Arrays.equals(name, RocksDB.DEFAULT_COLUMN_FAMILY)) {
                throw new IllegalStateException(path + " holds a column family '" + text + "' that loomkv does not write: not a loomkv rocksdb directory");
            }
        }
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        RocksDB db = RocksDB.open(dbOptions, path, descriptors, handles);
        ColumnFamilyHandle meta = handles.get(0);
        try {
            byte[] stored = db.get(meta, GENERATION_KEY);
            long generation = stored == null ? 0 : decodeLong(stored, "data generation");
            DataFamily data = null;
            for (int i = 1; i < handles.size(); i++) {
                String name = new String(descriptors.get(i).getName(), StandardCharsets.UTF_8);
                if (name.equals(DataFamily.name(generation))) {
                    data = new DataFamily(handles.get(i), generation);
                } else {
                    LOG.info("dropping column family {} of {}: left by a restore that did not finish", name, path);
                    db.dropColumnFamily(handles.get(i));
                    handles.get(i).close();
                }
            }
            if (data == null && stored != null) {
                throw new IllegalStateException(path + ": the metadata names generation " + generation + " but its column family is missing");
            }
            if (data == null) {
                data = new DataFamily(db.createColumnFamily(new ColumnFamilyDescriptor(
                        DataFamily.name(generation).getBytes(StandardCharsets.UTF_8), dataFamilyOptions)), generation);
            }
            return new RocksDbKvEngine(options, resources, db, meta, dataFamilyOptions, data, readAppliedIndexes(db, meta));
        } catch (RocksDBException | RuntimeException e) {
            for (ColumnFamilyHandle handle : handles) {
                handle.close();
            }
            db.close();
            throw e;
        }
    }

    private static List<byte[]> existingFamilies(RocksDbOptions options) throws RocksDBException {
        if (!Files.exists(options.directory().resolve("CURRENT"))) {
            return List.of();
        }
        try (Options listing = new Options()) {
            return RocksDB.listColumnFamilies(listing, options.directory().toString());
        }
    }

    private static Map<Long, Long> readAppliedIndexes(RocksDB db, ColumnFamilyHandle meta) throws RocksDBException {
        Map<Long, Long> indexes = new HashMap<>();
        try (RocksIterator cursor = db.newIterator(meta)) {
            for (cursor.seek(APPLIED_PREFIX); cursor.isValid() && startsWith(cursor.key(), APPLIED_PREFIX); cursor.next()) {
                byte[] key = cursor.key();
                if (key.length != APPLIED_PREFIX.length + Long.BYTES) {
                    throw new IllegalStateException("a malformed applied-index key of " + key.length + " bytes in the metadata");
                }
                long groupId = ByteBuffer.wrap(key, APPLIED_PREFIX.length, Long.BYTES).getLong();
                indexes.put(groupId, decodeLong(cursor.value(), "applied index of group " + groupId));
            }
            cursor.status();
        }
        return indexes;
    }

    // ---- reads ----

    @Override
    public byte[] get(byte[] key) {
        Objects.requireNonNull(key, "key");
        DataFamily family = acquireData();
        try {
            return db.get(family.handle(), key);
        } catch (RocksDBException e) {
            throw failure("get", e);
        } finally {
            family.release();
        }
    }

    /**
     * A get into an empty buffer: RocksDB finds the value and reports its size without copying it
     * into a new Java array (4 KB per put of the seed workload, on each of three replicas).
     */
    @Override
    public boolean contains(byte[] key) {
        Objects.requireNonNull(key, "key");
        DataFamily family = acquireData();
        try {
            return db.get(family.handle(), key, NO_VALUE_BUFFER) != RocksDB.NOT_FOUND;
        } catch (RocksDBException e) {
            throw failure("contains", e);
        } finally {
            family.release();
        }
    }

    @Override
    public ScanPage scan(ScanRequest request) {
        if (request.endKey() != null && Keys.compare(request.startKey(), request.endKey()) >= 0) {
            return new ScanPage(List.of(), null);
        }
        DataFamily family = acquireData();
        try (Slice upperBound = request.endKey() == null ? null : new Slice(request.endKey());
             ReadOptions readOptions = new ReadOptions();
             RocksIterator cursor = db.newIterator(family.handle(),
                     upperBound == null ? readOptions : readOptions.setIterateUpperBound(upperBound))) {
            List<KeyValue> entries = new ArrayList<>();
            long bytes = 0;
            for (cursor.seek(request.startKey()); cursor.isValid(); cursor.next()) {
                if (entries.size() >= request.limit() || (!entries.isEmpty() && bytes >= request.maxBytes())) {
                    return new ScanPage(entries, Keys.successor(entries.get(entries.size() - 1).key()));
                }
                KeyValue entry = new KeyValue(cursor.key(), cursor.value());
                entries.add(entry);
                bytes += entry.key().length + entry.value().length;
            }
            cursor.status();
            return new ScanPage(entries, null);
        } catch (RocksDBException e) {
            throw failure("scan", e);
        } finally {
            family.release();
        }
    }

    @Override
    public EngineSnapshot snapshot() {
        checkOpen();
        RocksDbSnapshot snapshot = new RocksDbSnapshot(db, acquireData(), openSnapshots::remove);
        openSnapshots.add(snapshot);
        return snapshot;
    }

    /**
     * A reference to the current data family. A restore may retire the family between the read of
     * the field and the acquire; then the field already names the new one, so read it again.
     */
    private DataFamily acquireData() {
        checkOpen();
        while (true) {
            DataFamily family = data;
            if (family.acquire()) {
                return family;
            }
        }
    }

    // ---- writes ----

    @Override
    public void put(byte[] key, byte[] value) {
        if (key == null || value == null) {
            throw new IllegalArgumentException("key and value must not be null");
        }
        writeLock.lock();
        try {
            checkOpen();
            db.put(data.handle(), writeOptions, key, value);
        } catch (RocksDBException e) {
            throw failure("put", e);
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public void delete(byte[] key) {
        if (key == null) {
            throw new IllegalArgumentException("key must not be null");
        }
        writeLock.lock();
        try {
            checkOpen();
            db.delete(data.handle(), writeOptions, key);
        } catch (RocksDBException e) {
            throw failure("delete", e);
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public void write(WriteBatch batch) {
        writeIndexed(batch, -1, 0);
    }

    @Override
    public void write(WriteBatch batch, long groupId, long appliedIndex) {
        Objects.requireNonNull(batch, "batch");
        AppliedIndexes.checkGroupAndIndex(groupId, appliedIndex);
        writeIndexed(batch, groupId, appliedIndex);
    }

    /** One RocksDB write batch: the operations, then (for {@code groupId >= 0}) the group's applied index. */
    private void writeIndexed(WriteBatch batch, long groupId, long appliedIndex) {
        writeLock.lock();
        try (org.rocksdb.WriteBatch nativeBatch = new org.rocksdb.WriteBatch()) {
            checkOpen();
            if (groupId >= 0) {
                applied.checkNext(groupId, appliedIndex);
            }
            ColumnFamilyHandle handle = data.handle();
            for (WriteOp op : batch.ops()) {
                switch (op) {
                    case WriteOp.Put put -> nativeBatch.put(handle, put.key(), put.value());
                    case WriteOp.Delete delete -> nativeBatch.delete(handle, delete.key());
                }
            }
            commit(nativeBatch, groupId, appliedIndex);
        } catch (RocksDBException e) {
            throw failure("write a batch", e);
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public void deleteRange(byte[] fromKey, byte[] toKey, long groupId, long appliedIndex) {
        Objects.requireNonNull(fromKey, "fromKey");
        if (toKey != null && Keys.compare(fromKey, toKey) > 0) {
            throw new IllegalArgumentException("deleteRange needs fromKey <= toKey");
        }
        writeLock.lock();
        try (org.rocksdb.WriteBatch nativeBatch = new org.rocksdb.WriteBatch()) {
            checkOpen();
            applied.checkNext(groupId, appliedIndex);
            byte[] end = toKey != null ? toKey : endAfterLastKey();
            if (end != null && Keys.compare(fromKey, end) < 0) {
                nativeBatch.deleteRange(data.handle(), fromKey, end);
            }
            commit(nativeBatch, groupId, appliedIndex);
        } catch (RocksDBException e) {
            throw failure("delete a range", e);
        } finally {
            writeLock.unlock();
        }
    }

    /** RocksDB's range tombstone needs an end: for an open range, just past the last key (null when empty). */
    private byte[] endAfterLastKey() {
        try (RocksIterator cursor = db.newIterator(data.handle())) {
            cursor.seekToLast();
            return cursor.isValid() ? Keys.successor(cursor.key()) : null;
        }
    }

    /** Adds the applied index (for {@code groupId >= 0}) to {@code nativeBatch} and writes it; the caller holds the write lock. */
    private void commit(org.rocksdb.WriteBatch nativeBatch, long groupId, long appliedIndex) throws RocksDBException {
        if (groupId >= 0) {
            nativeBatch.put(meta, appliedKey(groupId), encodeLong(appliedIndex));
        }
        db.write(writeOptions, nativeBatch);
        if (groupId >= 0) {
            applied.record(groupId, appliedIndex, options.syncWrites());
        }
    }

    @Override
    public void restore(Iterator<KeyValue> entries) {
        restoreGeneration(entries, -1, 0);
    }

    @Override
    public void restore(Iterator<KeyValue> entries, long groupId, long appliedIndex) {
        AppliedIndexes.checkGroupAndIndex(groupId, appliedIndex);
        restoreGeneration(entries, groupId, appliedIndex);
    }

    private void restoreGeneration(Iterator<KeyValue> entries, long groupId, long appliedIndex) {
        Objects.requireNonNull(entries, "entries");
        writeLock.lock();
        try {
            checkOpen();
            DataFamily old = data;
            long generation = old.generation() + 1;
            DataFamily fresh = new DataFamily(db.createColumnFamily(new ColumnFamilyDescriptor(
                    DataFamily.name(generation).getBytes(StandardCharsets.UTF_8), dataFamilyOptions)), generation);
            try {
                load(entries, fresh.handle());
                db.flush(flushOptions, fresh.handle());
            } catch (RocksDBException | RuntimeException e) {
                fresh.retire(db);
                throw e;
            }
            try (org.rocksdb.WriteBatch switchover = new org.rocksdb.WriteBatch()) {
                switchover.put(meta, GENERATION_KEY, encodeLong(generation));
                switchover.deleteRange(meta, APPLIED_PREFIX, Keys.prefixEnd(APPLIED_PREFIX));
                if (groupId >= 0) {
                    switchover.put(meta, appliedKey(groupId), encodeLong(appliedIndex));
                }
                db.write(syncedWriteOptions, switchover);
            }
            data = fresh;
            old.retire(db);
            applied.resetTo(groupId, appliedIndex, true);
        } catch (RocksDBException e) {
            throw failure("restore", e);
        } finally {
            writeLock.unlock();
        }
    }

    /** Writes {@code entries} into {@code handle} in bounded batches, checking that keys strictly increase. */
    private void load(Iterator<KeyValue> entries, ColumnFamilyHandle handle) throws RocksDBException {
        byte[] previous = null;
        try (org.rocksdb.WriteBatch nativeBatch = new org.rocksdb.WriteBatch()) {
            while (entries.hasNext()) {
                KeyValue entry = entries.next();
                if (previous != null && Keys.compare(previous, entry.key()) >= 0) {
                    throw new IllegalArgumentException("restore needs strictly increasing keys: " + entry + " after a key not smaller");
                }
                previous = entry.key();
                nativeBatch.put(handle, entry.key(), entry.value());
                if (nativeBatch.getDataSize() >= RESTORE_BATCH_BYTES) {
                    db.write(unloggedWriteOptions, nativeBatch);
                    nativeBatch.clear();
                }
            }
            if (nativeBatch.count() > 0) {
                db.write(unloggedWriteOptions, nativeBatch);
            }
        }
    }

    // ---- durability and sizes ----

    @Override
    public long appliedIndex(long groupId) {
        return applied.recorded(groupId);
    }

    @Override
    public long durableAppliedIndex(long groupId) {
        return applied.durable(groupId);
    }

    @Override
    public void sync() {
        writeLock.lock();
        try {
            checkOpen();
            Map<Long, Long> covered = applied.copyRecorded();
            db.flushWal(true);
            applied.markDurable(covered);
        } catch (RocksDBException e) {
            throw failure("sync the write-ahead log", e);
        } finally {
            writeLock.unlock();
        }
    }

    /** RocksDB's estimate: exact while every key is in one memtable, approximate once overwrites and deletes reach files. */
    @Override
    public long approximateKeyCount() {
        return dataProperty("rocksdb.estimate-num-keys");
    }

    @Override
    public long approximateSizeBytes() {
        // Memtables first: a flush that finishes between the two reads then counts its data twice
        // (in the memtable read, and in the new table file) instead of not at all, which the
        // other order did (seen as a flaky size check right after a sync).
        long memtableBytes = dataProperty("rocksdb.cur-size-all-mem-tables");
        return memtableBytes + dataProperty("rocksdb.estimate-live-data-size");
    }

    @Override
    public EngineSizes sizes() {
        // A shared cache is the store's (RocksDbSharedMemory#usageBytes), not counted once per group.
        long memory = dataProperty("rocksdb.cur-size-all-mem-tables")
                + (sharedCache ? 0 : dataProperty("rocksdb.block-cache-usage"))
                + dataProperty("rocksdb.estimate-table-readers-mem");
        try {
            memory += db.getLongProperty(meta, "rocksdb.cur-size-all-mem-tables");
        } catch (RocksDBException e) {
            throw failure("read a property", e);
        }
        return new EngineSizes(approximateKeyCount(), DirectorySize.bytes(options.directory()), memory);
    }

    private long dataProperty(String name) {
        DataFamily family = acquireData();
        try {
            return Math.max(0, db.getLongProperty(family.handle(), name));
        } catch (RocksDBException e) {
            throw failure("read the property " + name, e);
        } finally {
            family.release();
        }
    }

    /** Syncs the log, then closes snapshots, handles, the database and the options, in that order. */
    @Override
    public void close() {
        writeLock.lock();
        try {
            if (closed) {
                return;
            }
            try {
                db.flushWal(true);
            } catch (RocksDBException e) {
                LOG.warn("syncing the write-ahead log of {} on close failed", options.directory(), e);
            }
            closed = true;
            for (RocksDbSnapshot snapshot : List.copyOf(openSnapshots)) {
                snapshot.close();
            }
            data.release();
            meta.close();
            try {
                db.closeE();
            } catch (RocksDBException e) {
                LOG.warn("closing {} failed", options.directory(), e);
            }
            resources.close();
        } finally {
            writeLock.unlock();
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the engine at " + options.directory() + " is closed");
        }
    }

    static UncheckedIOException failure(String what, RocksDBException e) {
        return new UncheckedIOException(new IOException("rocksdb: cannot " + what + ": " + e.getMessage(), e));
    }

    private static byte[] appliedKey(long groupId) {
        return ByteBuffer.allocate(APPLIED_PREFIX.length + Long.BYTES).put(APPLIED_PREFIX).putLong(groupId).array();
    }

    private static byte[] encodeLong(long value) {
        return ByteBuffer.allocate(Long.BYTES).putLong(value).array();
    }

    private static long decodeLong(byte[] bytes, String what) {
        if (bytes.length != Long.BYTES) {
            throw new IllegalStateException("the stored " + what + " has " + bytes.length + " bytes, not " + Long.BYTES);
        }
        return ByteBuffer.wrap(bytes).getLong();
    }

    private static boolean startsWith(byte[] key, byte[] prefix) {
        return key.length >= prefix.length && java.util.Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
    }
}
