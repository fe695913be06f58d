package io.loomkv.persist.engine;

import io.loomkv.core.engine.EngineSnapshot;
import io.loomkv.core.engine.KeyValue;
import io.loomkv.core.engine.Keys;
import io.loomkv.core.engine.KvEngine;
import io.loomkv.core.engine.ScanPage;
import io.loomkv.core.engine.ScanRequest;
import io.loomkv.core.engine.WriteBatch;
import io.loomkv.core.engine.WriteOp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The default engine: a {@link ConcurrentSkipListMap} ordered by unsigned bytes for scans and
 * snapshots, beside a {@link ConcurrentHashMap} for point reads. Reads never lock.
 *
 * <p>Both maps hold the same {@link Cell} per key, and a write that replaces a key's value only
 * stores into its cell: so a get, an existence check and an overwrite each cost one hash lookup,
 * and only a new or deleted key touches the skip list. Every put asks whether its key existed
 * (for its reply) on every replica, and every linearizable read is a get: in the skip list alone
 * those searches were the largest single item of a server's CPU with one group (9.5% of the
 * samples under {@code bench kv}'s load, 10,000 keys), and a get cost about 4 us at 1,000,000
 * keys, where a search misses the cache at every level (docs/performance.md, fifteenth session).
 * The price is memory: 65 bytes more per key (the hash table's node and slot, and the cell).
 *
 * <p>Snapshots are point-in-time without copying the map: while a snapshot is open, the writer
 * first saves the value a key had when the snapshot was taken (its "before image", or "absent")
 * into that snapshot's overlay, then changes the map. The snapshot's iterator reads the live map
 * and lets the overlay win. So a snapshot costs memory only for the keys written while it is
 * open, and the state is never held twice.
 *
 * <p>A {@link WriteBatch} is atomic for snapshots; a concurrent {@code get} or {@code scan} on this
 * engine may see part of a batch that is being applied.
 */
public final class MemoryKvEngine implements KvEngine {
    /** Overlay marker: the key did not exist when the snapshot was taken. */
    private static final Object ABSENT = new Object();
    /**
     * Per-entry overhead beyond the key's and value's bytes, for {@link #approximateSizeBytes}: the
     * skip list's node and index share, the cell, the hash table's node and slot, and the two
     * arrays' headers. Measured on the heap with 1,000,000 keys of 16 B and values of 128 B: 129
     * bytes per key (64 before the hash index).
     */
    private static final int ENTRY_OVERHEAD_BYTES = 129;

    private final ReentrantLock writeLock = new ReentrantLock();
    private final CopyOnWriteArrayList<MemorySnapshot> openSnapshots = new CopyOnWriteArrayList<>();
    /** Replaced whole by a restore, so a reader always sees one restore's two maps together. */
    private volatile Contents contents = new Contents(newOrdered(), new ConcurrentHashMap<>());
    private final AtomicLong keyCount = new AtomicLong();
    private final AtomicLong sizeBytes = new AtomicLong();

    private static final Comparator<byte[]> KEY_ORDER = Arrays::compareUnsigned;

    /**
     * A key and its current value. The writer replaces {@code value} in place; a reader that found
     * the cell reads either the old or the new value, as it would reading a map. Equal to any cell
     * with the same key bytes, so a bare cell (no value) is the probe of a hash lookup.
     */
    private static final class Cell {
        final byte[] key;
        final int hash;
        volatile byte[] value;

        Cell(byte[] key, byte[] value) {
            this.key = key;
            this.hash = Arrays.hashCode(key);
            this.value = value;
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Cell cell && cell.hash == hash && Arrays.equals(cell.key, key);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    /** The ordered map (scans, snapshots) and the hash index (point reads) over the same cells. */
    private record Contents(ConcurrentSkipListMap<byte[], Cell> ordered, ConcurrentHashMap<Cell, Cell> index) {
        Cell find(byte[] key) {
            return index.get(new Cell(key, null));
        }

        byte[] valueOf(byte[] key) {
            Cell cell = find(key);
            return cell == null ? null : cell.value;
        }
    }

    private static ConcurrentSkipListMap<byte[], Cell> newOrdered() {
        return new ConcurrentSkipListMap<>(KEY_ORDER);
    }

    @Override
    public byte[] get(byte[] key) {
        return contents.valueOf(key);
    }

    @Override
    public boolean contains(byte[] key) {
        return contents.find(key) != null;
    }

    @Override
    public void put(byte[] key, byte[] value) {
        writeLock.lock();
        try {
            applyPut(key, value);
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public void delete(byte[] key) {
        writeLock.lock();
        try {
            applyDelete(key);
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public void write(WriteBatch batch) {
        writeLock.lock();
        try {
            for (WriteOp op : batch.ops()) {
                switch (op) {
                    case WriteOp.Put put -> applyPut(put.key(), put.value());
                    case WriteOp.Delete delete -> applyDelete(delete.key());
                }
            }
        } finally {
            writeLock.unlock();
        }
    }

    private void applyPut(byte[] key, byte[] value) {
        if (key == null || value == null) {
            throw new IllegalArgumentException("key and value must not be null");
        }
        saveBeforeImage(key);
        Contents current = contents;
        Cell cell = current.find(key);
        if (cell != null) {
            byte[] old = cell.value;
            cell.value = value;
            sizeBytes.addAndGet(value.length - old.length);
            return;
        }
        // A new key goes into the hash index before the ordered map (and a deleted one leaves it
        // first), so a key that a scan finds in the ordered map can always be looked up by key.
        Cell added = new Cell(key, value);
        current.index.put(added, added);
        current.ordered.put(key, added);
        keyCount.incrementAndGet();
        sizeBytes.addAndGet(key.length + value.length + ENTRY_OVERHEAD_BYTES);
    }

    private void applyDelete(byte[] key) {
        if (key == null) {
            throw new IllegalArgumentException("key must not be null");
        }
        saveBeforeImage(key);
        Contents current = contents;
        Cell removed = current.index.remove(new Cell(key, null));
        if (removed != null) {
            current.ordered.remove(removed.key);
            keyCount.decrementAndGet();
            sizeBytes.addAndGet(-(key.length + removed.value.length + ENTRY_OVERHEAD_BYTES));
        }
    }

    private void saveBeforeImage(byte[] key) {
        for (MemorySnapshot snapshot : openSnapshots) {
            if (!snapshot.overlay.containsKey(key)) {
                byte[] current = get(key);
                snapshot.overlay.put(key, current == null ? ABSENT : current);
            }
        }
    }

    @Override
    public ScanPage scan(ScanRequest request) {
        ConcurrentSkipListMap<byte[], Cell> current = contents.ordered();
        Map<byte[], Cell> range = request.endKey() == null
                ? current.tailMap(request.startKey(), true)
                : (Keys.compare(request.startKey(), request.endKey()) >= 0 ? Map.of() : current.subMap(request.startKey(), true, request.endKey(), false));
        List<KeyValue> entries = new ArrayList<>();
        long bytes = 0;
        Iterator<Cell> iterator = range.values().iterator();
        while (iterator.hasNext()) {
            if (entries.size() >= request.limit() || (!entries.isEmpty() && bytes >= request.maxBytes())) {
                byte[] lastKey = entries.get(entries.size() - 1).key();
                return new ScanPage(entries, Keys.successor(lastKey));
            }
            Cell cell = iterator.next();
            byte[] value = cell.value;
            entries.add(new KeyValue(cell.key, value));
            bytes += cell.key.length + value.length;
        }
        return new ScanPage(entries, null);
    }

    @Override
    public EngineSnapshot snapshot() {
        writeLock.lock();
        try {
            MemorySnapshot snapshot = new MemorySnapshot(contents);
            openSnapshots.add(snapshot);
            return snapshot;
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public void restore(Iterator<KeyValue> entries) {
        SortedRestoreSource<Cell> source = new SortedRestoreSource<>(entries, KEY_ORDER, ENTRY_OVERHEAD_BYTES,
                entry -> new Cell(entry.key(), entry.value()));
        ConcurrentSkipListMap<byte[], Cell> ordered = new ConcurrentSkipListMap<>(source);
        long count = source.count();
        long bytes = source.sizeBytes();
        // The capacity is a number of elements: the map applies its load factor to it itself.
        ConcurrentHashMap<Cell, Cell> index = new ConcurrentHashMap<>((int) Math.min(Integer.MAX_VALUE, count));
        for (Cell cell : ordered.values()) {
            index.put(cell, cell);
        }
        writeLock.lock();
        try {
            // Open snapshots keep iterating the old maps, which no one writes any more.
            contents = new Contents(ordered, index);
            keyCount.set(count);
            sizeBytes.set(bytes);
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public long approximateKeyCount() {
        return keyCount.get();
    }

    @Override
    public long approximateSizeBytes() {
        return sizeBytes.get();
    }

    /** Number of snapshots not yet closed (tests check that closing releases the overlay). */
    public int openSnapshotCount() {
        return openSnapshots.size();
    }

    @Override
    public void close() {
        openSnapshots.clear();
    }

    private final class MemorySnapshot implements EngineSnapshot {
        private final Contents live;
        private final ConcurrentSkipListMap<byte[], Object> overlay = new ConcurrentSkipListMap<>(Arrays::compareUnsigned);

        MemorySnapshot(Contents live) {
            this.live = live;
        }

        @Override
        public Iterator<KeyValue> iterator() {
            return new Iterator<>() {
                private final Iterator<Cell> liveCells = live.ordered().values().iterator();
                /** The live iterator's cell not yet passed (its key above {@link #last}), or null when it has none. */
                private Cell livePeek;
                private byte[] last;
                private KeyValue next = advance();

                /*
                 * The live map through its weakly consistent iterator (each step follows a link,
                 * where a search per key cost O(log n) cache misses: a fifth of a store's CPU with
                 * 1,000,000 keys), the overlay by a point query after it. The iterator returns every
                 * key present from its creation to its passing, and may miss one deleted meanwhile:
                 * such a key's before image went into the overlay before it left the live map, so
                 * the overlay query made after the iterator moved past it finds it. Keys the
                 * iterator shows that were added after the snapshot are ABSENT in the overlay. A
                 * cell's value is read before the overlay: a change made in between left the before
                 * image there first, and an overlay entry always wins.
                 */
                private KeyValue advance() {
                    while (true) {
                        Cell liveNext = nextLiveCell();
                        byte[] overlayNext = last == null ? firstKey(overlay) : overlay.higherKey(last);
                        byte[] key = min(liveNext == null ? null : liveNext.key, overlayNext);
                        if (key == null) {
                            return null;
                        }
                        last = key;
                        byte[] liveValue = liveNext != null && key == liveNext.key ? liveNext.value : null;
                        Object before = overlay.get(key);
                        if (before == ABSENT) {
                            continue;
                        }
                        byte[] value = before != null ? (byte[]) before : liveValue;
                        if (value != null) {
                            return new KeyValue(key, value);
                        }
                    }
                }

                /** The live iterator's first cell with a key above {@link #last}; null when it is exhausted. */
                private Cell nextLiveCell() {
                    while (livePeek == null || (last != null && KEY_ORDER.compare(livePeek.key, last) <= 0)) {
                        if (!liveCells.hasNext()) {
                            livePeek = null;
                            return null;
                        }
                        livePeek = liveCells.next();
                    }
                    return livePeek;
                }

                @Override
                public boolean hasNext() {
                    return next != null;
                }

                @Override
                public KeyValue next() {
                    if (next == null) {
                        throw new NoSuchElementException();
                    }
                    KeyValue result = next;
                    next = advance();
                    return result;
                }
            };
        }

        @Override
        public void close() {
            openSnapshots.remove(this);
        }
    }

    private static <V> byte[] firstKey(ConcurrentSkipListMap<byte[], V> map) {
        Map.Entry<byte[], V> first = map.firstEntry();
        return first == null ? null : first.getKey();
    }

    private static byte[] min(byte[] a, byte[] b) {
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        return Keys.compare(a, b) <= 0 ? a : b;
    }
}
