package io.loomkv.engine.bitcask;

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
import io.loomkv.engine.Users;
import io.loomkv.persist.bitcask.BitcaskBatch;
import io.loomkv.persist.bitcask.BitcaskOptions;
import io.loomkv.persist.bitcask.BitcaskSizes;
import io.loomkv.persist.bitcask.BitcaskStore;
import io.loomkv.persist.bitcask.BitcaskView;
import io.loomkv.persist.io.DurableFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * loomkv's BitCask ({@link BitcaskStore}, persist) as a {@link PersistentKvEngine}.
 *
 * <ul>
 *   <li><b>Batch and index:</b> a batch is one BitCask record group, and the groups' applied
 *       indexes ride in that group's metadata blob, so both are written (and recovered) together.
 *       The blob holds every group's index (one, in practice: the store opens one engine per
 *       group).</li>
 *   <li><b>Ordered scans:</b> served, from a point-in-time view over the key directory's skip list;
 *       each entry costs one positioned read of its record (no block cache, no read-ahead), so a
 *       scan is slower than on the other engines: the documented slower path of docs/engines.md.</li>
 *   <li><b>Restore:</b> writes a new generation ({@code gen-<n>}, a BitCask store of its own) in
 *       bounded batches, syncs it, then switches {@code CURRENT} (tmp, fsync, rename, fsync of the
 *       directory) and retires the old generation once its last reader lets go. A crash before the
 *       switch leaves the old generation, and the next open deletes the unfinished one.</li>
 *   <li><b>Range deletes</b> write a tombstone per key in groups within the batch limits, the index
 *       with the last group: a crash in the middle leaves some keys deleted under the old index,
 *       and replaying the delete from the log finishes it (a range delete is idempotent).</li>
 *   <li><b>Merges</b> start after a {@link #sync} once at least half the bytes on disk are dead, on
 *       a virtual thread, while writes go on.</li>
 * </ul>
 */
public final class BitcaskKvEngine implements PersistentKvEngine {
    private static final Logger LOG = LoggerFactory.getLogger(BitcaskKvEngine.class);
    static final String CURRENT_FILE = "CURRENT";
    private static final String GENERATION_PREFIX = "gen-";
    /** Bytes of keys and values per batch of a restore: bounds the memory a restore holds. */
    private static final long RESTORE_BATCH_BYTES = 4L << 20;
    private static final int RESTORE_BATCH_OPS = 10_000;
    private static final int MAX_OPEN_VIEWS = 64;
    private static final long MERGE_MIN_DEAD_BYTES = 16L << 20;

    /** One BitCask store and the readers that hold it. */
    private record Generation(long number, Path directory, BitcaskStore store, Users users) {
    }

    private final Path root;
    private final BitcaskOptions template;
    private final boolean syncWrites;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final AtomicBoolean merging = new AtomicBoolean();
    private final AppliedIndexes indexes;
    private volatile Generation current;
    private volatile boolean closed;

    private BitcaskKvEngine(Path root, BitcaskOptions template, boolean syncWrites, Generation current, Map<Long, Long> stored) {
        this.root = root;
        this.template = template;
        this.syncWrites = syncWrites;
        this.current = current;
        this.indexes = new AppliedIndexes(stored);
    }

    /**
     * Opens (or creates) the engine in {@code options.directory()}; the options' other limits apply
     * to every generation.
     */
    public static BitcaskKvEngine open(BitcaskOptions options, boolean syncWrites) {
        Path root = options.directory();
        try {
            Files.createDirectories(root);
            Path currentFile = root.resolve(CURRENT_FILE);
            long number;
            if (Files.exists(currentFile)) {
                number = parseGeneration(Files.readString(currentFile, StandardCharsets.UTF_8).trim(), currentFile);
            } else {
                number = 0;
                writeCurrent(root, number);
            }
            deleteOtherGenerations(root, number);
            Generation generation = openGeneration(root, options, number);
            Map<Long, Long> stored;
            try {
                stored = decodeIndexes(generation.store().metadata());
            } catch (RuntimeException e) {
                generation.store().close();
                throw e;
            }
            return new BitcaskKvEngine(root, options, syncWrites, generation, stored);
        } catch (IOException e) {
            throw new UncheckedIOException("opening the BitCask engine in " + root, e);
        }
    }

    private static Generation openGeneration(Path root, BitcaskOptions template, long number) throws IOException {
        Path directory = root.resolve(GENERATION_PREFIX + number);
        BitcaskStore store = BitcaskStore.open(withDirectory(template, directory));
        Users users = new Users("BitCask generation " + number, store::close);
        return new Generation(number, directory, store, users);
    }

    private static BitcaskOptions withDirectory(BitcaskOptions template, Path directory) {
        return new BitcaskOptions(directory, template.maxFileSizeBytes(), template.maxKeyBytes(), template.maxValueBytes(),
                template.maxBatchOps(), template.maxBatchBytes(), template.maxMetadataBytes(),
                Math.max(template.maxOpenViews(), MAX_OPEN_VIEWS), template.channelOpener());
    }

    private static long parseGeneration(String text, Path file) throws IOException {
        try {
            long number = Long.parseLong(text);
            if (number < 0) {
                throw new NumberFormatException("negative");
            }
            return number;
        } catch (NumberFormatException e) {
            throw new IOException(file + " must hold a generation number, holds '" + text + "'");
        }
    }

    private static void writeCurrent(Path root, long number) throws IOException {
        Path tmp = root.resolve(CURRENT_FILE + ".tmp");
        Files.writeString(tmp, Long.toString(number), StandardCharsets.UTF_8);
        try (var channel = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        DurableFiles.renameDurably(tmp, root.resolve(CURRENT_FILE));
    }

    /** Unfinished restores (newer) and retired generations a crash left (older). */
    private static void deleteOtherGenerations(Path root, long keep) throws IOException {
        List<Path> others;
        try (Stream<Path> entries = Files.list(root)) {
            others = entries.filter(p -> p.getFileName().toString().startsWith(GENERATION_PREFIX))
                    .filter(p -> !p.getFileName().toString().equals(GENERATION_PREFIX + keep)).toList();
        }
        for (Path other : others) {
            deleteTree(other);
        }
    }

    private static void deleteTree(Path directory) throws IOException {
        if (!Files.exists(directory)) {
            return;
        }
        List<Path> paths;
        try (Stream<Path> walk = Files.walk(directory)) {
            paths = walk.sorted(Comparator.reverseOrder()).toList();
        }
        for (Path path : paths) {
            Files.deleteIfExists(path);
        }
    }

    // ---- the applied indexes in a metadata blob: count, then (group, index) pairs ----

    static byte[] encodeIndexes(Map<Long, Long> indexes) {
        ByteBuffer buffer = ByteBuffer.allocate(Integer.BYTES + indexes.size() * 2 * Long.BYTES);
        buffer.putInt(indexes.size());
        indexes.forEach((group, index) -> buffer.putLong(group).putLong(index));
        return buffer.array();
    }

    static Map<Long, Long> decodeIndexes(byte[] blob) {
        Map<Long, Long> indexes = new HashMap<>();
        if (blob.length == 0) {
            return indexes; // no group has carried metadata yet
        }
        ByteBuffer buffer = ByteBuffer.wrap(blob);
        int count = blob.length >= Integer.BYTES ? buffer.getInt() : -1;
        if (count < 0 || blob.length != Integer.BYTES + (long) count * 2 * Long.BYTES) {
            throw new IllegalStateException("BitCask metadata of " + blob.length + " bytes is not an applied-index table");
        }
        for (int i = 0; i < count; i++) {
            indexes.put(buffer.getLong(), buffer.getLong());
        }
        return indexes;
    }

    // ---- reads ----

    /** The current generation, held for the caller; release it when done. */
    private Generation acquire() {
        while (true) {
            checkOpen();
            Generation generation = current;
            if (generation.users().acquire()) {
                return generation;
            }
        }
    }

    @Override
    public byte[] get(byte[] key) {
        Objects.requireNonNull(key, "key");
        Generation generation = acquire();
        try {
            return generation.store().get(key);
        } finally {
            generation.users().release();
        }
    }

    /** Answered from the key directory in memory: no data file is read. */
    @Override
    public boolean contains(byte[] key) {
        Objects.requireNonNull(key, "key");
        Generation generation = acquire();
        try {
            return generation.store().contains(key);
        } finally {
            generation.users().release();
        }
    }

    @Override
    public ScanPage scan(ScanRequest request) {
        Generation generation = acquire();
        try (BitcaskView view = generation.store().openView()) {
            if (request.endKey() != null && Keys.compare(request.startKey(), request.endKey()) >= 0) {
                return new ScanPage(List.of(), null);
            }
            Iterator<KeyValue> range = view.iterator(request.startKey(), request.endKey());
            List<KeyValue> entries = new ArrayList<>();
            long bytes = 0;
            while (range.hasNext()) {
                if (entries.size() >= request.limit() || (!entries.isEmpty() && bytes >= request.maxBytes())) {
                    return new ScanPage(entries, Keys.successor(entries.get(entries.size() - 1).key()));
                }
                KeyValue entry = range.next();
                entries.add(entry);
                bytes += entry.key().length + entry.value().length;
            }
            return new ScanPage(entries, null);
        } finally {
            generation.users().release();
        }
    }

    @Override
    public EngineSnapshot snapshot() {
        Generation generation = acquire();
        BitcaskView view;
        try {
            view = generation.store().openView();
        } catch (RuntimeException e) {
            generation.users().release();
            throw e;
        }
        return new EngineSnapshot() {
            private final AtomicBoolean released = new AtomicBoolean();

            @Override
            public Iterator<KeyValue> iterator() {
                Iterator<KeyValue> all = view.iterator();
                return new Iterator<>() {
                    @Override
                    public boolean hasNext() {
                        checkOpen();
                        return all.hasNext();
                    }

                    @Override
                    public KeyValue next() {
                        checkOpen();
                        return all.next();
                    }
                };
            }

            @Override
            public void close() {
                if (released.compareAndSet(false, true)) {
                    view.close();
                    generation.users().release();
                }
            }
        };
    }

    // ---- writes ----

    @Override
    public void put(byte[] key, byte[] value) {
        write(new WriteBatch(List.of(new WriteOp.Put(key, value))));
    }

    @Override
    public void delete(byte[] key) {
        write(new WriteBatch(List.of(new WriteOp.Delete(key))));
    }

    @Override
    public void write(WriteBatch batch) {
        writeLock.lock();
        try {
            checkOpen();
            current.store().write(toBitcask(batch), syncWrites);
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public void write(WriteBatch batch, long groupId, long appliedIndex) {
        writeLock.lock();
        try {
            checkOpen();
            indexes.checkNext(groupId, appliedIndex);
            BitcaskBatch bitcask = toBitcask(batch).metadata(encodeIndexes(withIndex(groupId, appliedIndex)));
            current.store().write(bitcask, syncWrites);
            indexes.record(groupId, appliedIndex, syncWrites);
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public void deleteRange(byte[] fromKey, byte[] toKey, long groupId, long appliedIndex) {
        Objects.requireNonNull(fromKey, "fromKey");
        if (toKey != null && Keys.compare(fromKey, toKey) > 0) {
            throw new IllegalArgumentException("range delete from a key after its end");
        }
        writeLock.lock();
        try {
            checkOpen();
            indexes.checkNext(groupId, appliedIndex);
            current.store().deleteRange(fromKey, toKey, encodeIndexes(withIndex(groupId, appliedIndex)), syncWrites);
            indexes.record(groupId, appliedIndex, syncWrites);
        } finally {
            writeLock.unlock();
        }
    }

    private Map<Long, Long> withIndex(long groupId, long appliedIndex) {
        Map<Long, Long> next = indexes.copyRecorded();
        next.put(groupId, appliedIndex);
        return next;
    }

    private static BitcaskBatch toBitcask(WriteBatch batch) {
        BitcaskBatch bitcask = new BitcaskBatch();
        for (WriteOp op : batch.ops()) {
            switch (op) {
                case WriteOp.Put put -> bitcask.put(put.key(), put.value());
                case WriteOp.Delete delete -> bitcask.delete(delete.key());
            }
        }
        return bitcask;
    }

    @Override
    public void restore(Iterator<KeyValue> entries) {
        restoreGeneration(entries, Map.of(), -1, 0);
    }

    @Override
    public void restore(Iterator<KeyValue> entries, long groupId, long appliedIndex) {
        AppliedIndexes.checkGroupAndIndex(groupId, appliedIndex);
        restoreGeneration(entries, Map.of(groupId, appliedIndex), groupId, appliedIndex);
    }

    private void restoreGeneration(Iterator<KeyValue> entries, Map<Long, Long> newIndexes, long groupId, long appliedIndex) {
        Objects.requireNonNull(entries, "entries");
        writeLock.lock();
        try {
            checkOpen();
            Generation old = current;
            Generation fresh = openGeneration(root, template, old.number() + 1);
            try {
                load(fresh.store(), entries, encodeIndexes(newIndexes));
                writeCurrent(root, fresh.number());
            } catch (IOException | RuntimeException e) {
                fresh.store().close();
                deleteTreeQuietly(fresh.directory());
                throw e;
            }
            current = fresh;
            indexes.resetTo(groupId, appliedIndex, true);
            old.users().retire(() -> {
                old.store().close();
                deleteTreeQuietly(old.directory());
            });
        } catch (IOException e) {
            throw new UncheckedIOException("BitCask restore in " + root, e);
        } finally {
            writeLock.unlock();
        }
    }

    /** Writes strictly ascending entries in bounded batches, the indexes with the last, then syncs. */
    private static void load(BitcaskStore store, Iterator<KeyValue> entries, byte[] indexBlob) {
        BitcaskBatch batch = new BitcaskBatch();
        long batchBytes = 0;
        byte[] previous = null;
        while (entries.hasNext()) {
            KeyValue entry = entries.next();
            if (previous != null && Keys.compare(previous, entry.key()) >= 0) {
                throw new IllegalArgumentException("restore entries must come in strictly increasing key order");
            }
            previous = entry.key();
            batch.put(entry.key(), entry.value());
            batchBytes += entry.key().length + entry.value().length;
            if (batch.size() >= RESTORE_BATCH_OPS || batchBytes >= RESTORE_BATCH_BYTES) {
                store.write(batch, false);
                batch = new BitcaskBatch();
                batchBytes = 0;
            }
        }
        store.write(batch.metadata(indexBlob), false);
        store.sync();
    }

    private void deleteTreeQuietly(Path directory) {
        try {
            deleteTree(directory);
        } catch (IOException e) {
            LOG.warn("BitCask {}: could not delete {}: {}", root, directory, e.toString());
        }
    }

    // ---- indexes, durability, sizes ----

    @Override
    public long appliedIndex(long groupId) {
        return indexes.recorded(groupId);
    }

    @Override
    public long durableAppliedIndex(long groupId) {
        return indexes.durable(groupId);
    }

    @Override
    public void sync() {
        Generation generation;
        Map<Long, Long> synced;
        writeLock.lock();
        try {
            checkOpen();
            synced = indexes.copyRecorded();
            current.store().sync();
            indexes.markDurable(synced);
            generation = current;
        } finally {
            writeLock.unlock();
        }
        maybeMerge(generation);
    }

    /** Starts a merge on a virtual thread once at least half the bytes on disk (and a few MiB) are dead. */
    private void maybeMerge(Generation generation) {
        BitcaskSizes sizes = generation.store().sizes();
        long dead = sizes.diskBytes() - sizes.liveRecordBytes();
        if (dead < MERGE_MIN_DEAD_BYTES || dead * 2 < sizes.diskBytes() || !merging.compareAndSet(false, true)) {
            return;
        }
        if (!generation.users().acquire()) {
            merging.set(false);
            return;
        }
        Thread.ofVirtual().name("bitcask-merge").start(() -> {
            try {
                generation.store().merge();
            } catch (IOException | RuntimeException e) {
                LOG.warn("BitCask {}: merge failed: {}", root, e.toString());
            } finally {
                generation.users().release();
                merging.set(false);
            }
        });
    }

    @Override
    public EngineSizes sizes() {
        Generation generation = acquire();
        try {
            BitcaskSizes sizes = generation.store().sizes();
            return new EngineSizes(sizes.keyCount(), sizes.diskBytes(), sizes.memoryBytesEstimate());
        } finally {
            generation.users().release();
        }
    }

    @Override
    public long approximateKeyCount() {
        return sizes().keys();
    }

    @Override
    public long approximateSizeBytes() {
        Generation generation = acquire();
        try {
            return generation.store().sizes().liveRecordBytes();
        } finally {
            generation.users().release();
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the BitCask engine in " + root + " is closed");
        }
    }

    /** Closes the engine; snapshots still open stop working and close their store when closed. */
    @Override
    public void close() {
        writeLock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            current.users().release();
        } finally {
            writeLock.unlock();
        }
    }
}
