package io.loomkv.engine.btree;

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
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import org.h2.mvstore.Cursor;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.MVStoreException;
import org.h2.mvstore.RootReference;
import org.h2.mvstore.type.LongDataType;
import org.h2.mvstore.type.StringDataType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The B+tree engine: H2's MVStore, a copy-on-write B+tree in one file.
 *
 * <p>Every write ends in one MVStore commit, which appends the changed pages and the new roots as
 * one chunk; on open MVStore takes the newest complete chunk, so a crash shows all of a commit or
 * none of it. MVStore's own auto-commit (a background thread, and a commit whenever unsaved changes
 * pass a buffer size) is switched off, since either could commit half a batch.
 *
 * <p>Layout: user keys live in the map {@code data.<generation>}; the map {@code loomkv-meta} holds
 * the current generation, the bytes stored, and {@code applied.<group>} -> applied index, so no
 * user key can collide with them. A restore fills a new generation (committing as it goes, to
 * bound memory), then switches the metadata in one synced commit and removes the old map; a crash
 * before the switch leaves a stray map, which {@link #open} removes.
 *
 * <p>Snapshots are cheap: the root of a copy-on-write tree is a point-in-time view as long as the
 * store keeps the chunks it points to, which registering a version usage guarantees.
 */
public final class MvStoreKvEngine implements PersistentKvEngine {
    private static final Logger LOG = LoggerFactory.getLogger(MvStoreKvEngine.class);
    private static final String META_MAP = "loomkv-meta";
    private static final String GENERATION_KEY = "generation";
    private static final String BYTES_KEY = "bytes";
    private static final String APPLIED_PREFIX = "applied.";
    private static final String DATA_PREFIX = "data.";
    /** A restore commits after about this many bytes, so it never holds the data in memory. */
    private static final long RESTORE_COMMIT_BYTES = 4L << 20;
    /** Compaction rewrites chunks less full than this (percent)... */
    private static final int COMPACT_TARGET_FILL_PERCENT = 50;
    /** ...and writes at most about this many bytes each time, so one commit never stalls for long. */
    private static final int COMPACT_WRITE_BYTES = 16 << 20;

    private final MvStoreOptions options;
    private final MVStore store;
    private final MVMap<String, Long> meta;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final Set<MvStoreSnapshot> openSnapshots = ConcurrentHashMap.newKeySet();
    private final AppliedIndexes applied;
    private volatile DataMap data;
    /** Bytes of keys and values stored; written by the writer only, persisted with every commit. */
    private volatile long storedBytes;
    private long commitsSinceCompaction;
    private volatile boolean closed;

    private MvStoreKvEngine(MvStoreOptions options, MVStore store, MVMap<String, Long> meta, DataMap data) {
        this.options = options;
        this.store = store;
        this.meta = meta;
        this.data = data;
        this.storedBytes = meta.getOrDefault(BYTES_KEY, 0L);
        this.applied = new AppliedIndexes(readAppliedIndexes(meta));
    }

    /** Opens the store in {@code options.file()}, creating it if missing. */
    public static MvStoreKvEngine open(MvStoreOptions options) {
        Path parent = options.file().toAbsolutePath().getParent();
        try {
            Files.createDirectories(parent);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + parent, e);
        }
        MVStore.Builder builder = new MVStore.Builder()
                .fileName(options.file().toString())
                .autoCommitDisabled()
                .autoCommitBufferSize(0)
                .cacheSize(options.cacheSizeMegabytes());
        if (options.compress()) {
            builder.compress();
        }
        MVStore store;
        try {
            store = builder.open();
        } catch (MVStoreException e) {
            throw failure("open " + options.file(), e);
        }
        try {
            MVMap<String, Long> meta = store.openMap(META_MAP,
                    new MVMap.Builder<String, Long>().keyType(StringDataType.INSTANCE).valueType(LongDataType.INSTANCE));
            long generation = meta.getOrDefault(GENERATION_KEY, 0L);
            for (String name : store.getMapNames()) {
                if (name.startsWith(DATA_PREFIX) && !name.equals(DataMap.name(generation))) {
                    LOG.info("removing map {} of {}: left by a restore that did not finish", name, options.file());
                    store.removeMap(name);
                } else if (!name.startsWith(DATA_PREFIX) && !name.equals(META_MAP)) {
                    throw new IllegalStateException(options.file() + " holds a map '" + name + "' that loomkv does not write: not a loomkv btree file");
                }
            }
            DataMap data = new DataMap(openDataMap(store, generation), generation);
            store.commit();
            return new MvStoreKvEngine(options, store, meta, data);
        } catch (RuntimeException e) {
            store.closeImmediately();
            throw e;
        }
    }

    private static MVMap<byte[], byte[]> openDataMap(MVStore store, long generation) {
        return store.openMap(DataMap.name(generation),
                new MVMap.Builder<byte[], byte[]>().keyType(UnsignedBytesType.INSTANCE).valueType(UnsignedBytesType.INSTANCE).singleWriter());
    }

    private static Map<Long, Long> readAppliedIndexes(MVMap<String, Long> meta) {
        Map<Long, Long> indexes = new HashMap<>();
        for (Iterator<String> keys = meta.keyIterator(APPLIED_PREFIX); keys.hasNext(); ) {
            String key = keys.next();
            if (!key.startsWith(APPLIED_PREFIX)) {
                break;
            }
            long groupId;
            try {
                groupId = Long.parseLong(key.substring(APPLIED_PREFIX.length()));
            } catch (NumberFormatException e) {
                throw new IllegalStateException("a malformed applied-index key '" + key + "' in the metadata", e);
            }
            indexes.put(groupId, meta.get(key));
        }
        return indexes;
    }

    // ---- reads ----

    @Override
    public byte[] get(byte[] key) {
        Objects.requireNonNull(key, "key");
        DataMap current = acquireData();
        try {
            return current.map().get(key);
        } finally {
            current.release();
        }
    }

    @Override
    public ScanPage scan(ScanRequest request) {
        if (request.endKey() != null && Keys.compare(request.startKey(), request.endKey()) >= 0) {
            return new ScanPage(List.of(), null);
        }
        DataMap current = acquireData();
        try {
            Cursor<byte[], byte[]> cursor = current.map().cursor(request.startKey());
            List<KeyValue> entries = new ArrayList<>();
            long bytes = 0;
            while (cursor.hasNext()) {
                byte[] key = cursor.next();
                if (!request.contains(key)) {
                    break;
                }
                if (entries.size() >= request.limit() || (!entries.isEmpty() && bytes >= request.maxBytes())) {
                    return new ScanPage(entries, Keys.successor(entries.get(entries.size() - 1).key()));
                }
                entries.add(new KeyValue(key, cursor.getValue()));
                bytes += key.length + cursor.getValue().length;
            }
            return new ScanPage(entries, null);
        } finally {
            current.release();
        }
    }

    /** Under the write lock, so the view holds whole batches: every write has committed or not begun. */
    @Override
    public EngineSnapshot snapshot() {
        writeLock.lock();
        try {
            DataMap current = acquireData();
            RootReference<byte[], byte[]> root = current.map().getRoot();
            MvStoreSnapshot snapshot = new MvStoreSnapshot(store, current, root, openSnapshots::remove);
            openSnapshots.add(snapshot);
            return snapshot;
        } finally {
            writeLock.unlock();
        }
    }

    private DataMap acquireData() {
        checkOpen();
        while (true) {
            DataMap current = data;
            if (current.acquire()) {
                return current;
            }
        }
    }

    // ---- writes ----

    @Override
    public void put(byte[] key, byte[] value) {
        if (key == null || value == null) {
            throw new IllegalArgumentException("key and value must not be null");
        }
        write(new WriteBatch(List.of(new WriteOp.Put(key, value))));
    }

    @Override
    public void delete(byte[] key) {
        if (key == null) {
            throw new IllegalArgumentException("key must not be null");
        }
        write(new WriteBatch(List.of(new WriteOp.Delete(key))));
    }

    @Override
    public void write(WriteBatch batch) {
        Objects.requireNonNull(batch, "batch");
        writeIndexed(batch, -1, 0);
    }

    @Override
    public void write(WriteBatch batch, long groupId, long appliedIndex) {
        Objects.requireNonNull(batch, "batch");
        AppliedIndexes.checkGroupAndIndex(groupId, appliedIndex);
        writeIndexed(batch, groupId, appliedIndex);
    }

    private void writeIndexed(WriteBatch batch, long groupId, long appliedIndex) {
        writeLock.lock();
        try {
            checkOpen();
            if (groupId >= 0) {
                applied.checkNext(groupId, appliedIndex);
            }
            long bytes = storedBytes;
            try {
                MVMap<byte[], byte[]> map = data.map();
                for (WriteOp op : batch.ops()) {
                    bytes += switch (op) {
                        case WriteOp.Put put -> sizeChange(put.key(), put.value(), map.put(put.key(), put.value()));
                        case WriteOp.Delete delete -> sizeChange(delete.key(), null, map.remove(delete.key()));
                    };
                }
            } catch (RuntimeException e) {
                store.rollback();
                throw e;
            }
            commit(bytes, groupId, appliedIndex);
        } finally {
            writeLock.unlock();
        }
    }

    private static long sizeChange(byte[] key, byte[] newValue, byte[] oldValue) {
        long added = newValue == null ? 0 : key.length + newValue.length;
        long removed = oldValue == null ? 0 : key.length + oldValue.length;
        return added - removed;
    }

    @Override
    public void deleteRange(byte[] fromKey, byte[] toKey, long groupId, long appliedIndex) {
        Objects.requireNonNull(fromKey, "fromKey");
        if (toKey != null && Keys.compare(fromKey, toKey) > 0) {
            throw new IllegalArgumentException("deleteRange needs fromKey <= toKey");
        }
        writeLock.lock();
        try {
            checkOpen();
            applied.checkNext(groupId, appliedIndex);
            MVMap<byte[], byte[]> map = data.map();
            long bytes = storedBytes;
            // The cursor walks the root as it was before the first removal, which copy-on-write keeps intact.
            Cursor<byte[], byte[]> cursor = map.cursor(fromKey);
            try {
                while (cursor.hasNext()) {
                    byte[] key = cursor.next();
                    if (toKey != null && Keys.compare(key, toKey) >= 0) {
                        break;
                    }
                    bytes += sizeChange(key, null, map.remove(key));
                }
            } catch (RuntimeException e) {
                store.rollback();
                throw e;
            }
            commit(bytes, groupId, appliedIndex);
        } finally {
            writeLock.unlock();
        }
    }

    /** Records the bytes and the applied index (for {@code groupId >= 0}) and commits; the caller holds the write lock. */
    private void commit(long bytes, long groupId, long appliedIndex) {
        try {
            meta.put(BYTES_KEY, bytes);
            if (groupId >= 0) {
                meta.put(APPLIED_PREFIX + groupId, appliedIndex);
            }
            store.commit();
            if (options.syncWrites()) {
                store.sync();
            }
        } catch (MVStoreException e) {
            throw failure("commit", e);
        }
        storedBytes = bytes;
        if (groupId >= 0) {
            applied.record(groupId, appliedIndex, options.syncWrites());
        }
        if (++commitsSinceCompaction >= options.compactEveryCommits()) {
            commitsSinceCompaction = 0;
            store.compact(COMPACT_TARGET_FILL_PERCENT, COMPACT_WRITE_BYTES);
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
            DataMap old = data;
            long generation = old.generation() + 1;
            DataMap fresh = new DataMap(openDataMap(store, generation), generation);
            long bytes;
            try {
                bytes = load(entries, fresh.map());
            } catch (RuntimeException e) {
                store.removeMap(fresh.map());
                store.commit();
                throw e;
            }
            for (Iterator<String> keys = meta.keyIterator(APPLIED_PREFIX); keys.hasNext(); ) {
                String key = keys.next();
                if (!key.startsWith(APPLIED_PREFIX)) {
                    break;
                }
                meta.remove(key);
            }
            meta.put(GENERATION_KEY, generation);
            meta.put(BYTES_KEY, bytes);
            if (groupId >= 0) {
                meta.put(APPLIED_PREFIX + groupId, appliedIndex);
            }
            store.commit();
            store.sync();
            data = fresh;
            storedBytes = bytes;
            applied.resetTo(groupId, appliedIndex, true);
            old.retire(() -> removeRetired(old));
        } catch (MVStoreException e) {
            throw failure("restore", e);
        } finally {
            writeLock.unlock();
        }
    }

    /** Puts {@code entries} into {@code map}, committing every few MiB, checking that keys strictly increase; returns their bytes. */
    private long load(Iterator<KeyValue> entries, MVMap<byte[], byte[]> map) {
        byte[] previous = null;
        long bytes = 0;
        long uncommittedBytes = 0;
        while (entries.hasNext()) {
            KeyValue entry = entries.next();
            if (previous != null && Keys.compare(previous, entry.key()) >= 0) {
                throw new IllegalArgumentException("restore needs strictly increasing keys: " + entry + " after a key not smaller");
            }
            previous = entry.key();
            map.put(entry.key(), entry.value());
            long size = entry.key().length + entry.value().length;
            bytes += size;
            uncommittedBytes += size;
            if (uncommittedBytes >= RESTORE_COMMIT_BYTES) {
                store.commit();
                uncommittedBytes = 0;
            }
        }
        return bytes;
    }

    /** Called by the last user of a retired map: removes it (a crash first leaves it to {@link #open}). */
    private void removeRetired(DataMap retired) {
        writeLock.lock();
        try {
            if (!closed) {
                store.removeMap(retired.map());
                store.commit();
            }
        } finally {
            writeLock.unlock();
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
            store.sync();
            applied.markDurable(covered);
        } catch (MVStoreException e) {
            throw failure("sync", e);
        } finally {
            writeLock.unlock();
        }
    }

    /** Exact: the B+tree counts its keys. */
    @Override
    public long approximateKeyCount() {
        DataMap current = acquireData();
        try {
            return current.map().sizeAsLong();
        } finally {
            current.release();
        }
    }

    /** Exact: the bytes of keys and values, kept with every commit. */
    @Override
    public long approximateSizeBytes() {
        return storedBytes;
    }

    @Override
    public EngineSizes sizes() {
        checkOpen();
        long memory = ((long) store.getCacheSizeUsed() << 20) + store.getUnsavedMemory();
        return new EngineSizes(approximateKeyCount(), store.getFileStore().size(), memory);
    }

    /** Closes open snapshots, then the store (which writes nothing new: every write has committed). */
    @Override
    public void close() {
        writeLock.lock();
        try {
            if (closed) {
                return;
            }
            for (MvStoreSnapshot snapshot : List.copyOf(openSnapshots)) {
                snapshot.close();
            }
            closed = true;
            store.close();
        } catch (MVStoreException e) {
            throw failure("close", e);
        } finally {
            writeLock.unlock();
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the engine at " + options.file() + " is closed");
        }
    }

    private static UncheckedIOException failure(String what, MVStoreException e) {
        return new UncheckedIOException(new IOException("mvstore: cannot " + what + ": " + e.getMessage(), e));
    }
}
