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
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The default engine: a {@link ConcurrentSkipListMap} ordered by unsigned bytes. Reads never lock.
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
    /** Rough per-entry overhead of the skip list, for {@link #approximateSizeBytes}. */
    private static final int ENTRY_OVERHEAD_BYTES = 64;

    private final ReentrantLock writeLock = new ReentrantLock();
    private final CopyOnWriteArrayList<MemorySnapshot> openSnapshots = new CopyOnWriteArrayList<>();
    private volatile ConcurrentSkipListMap<byte[], byte[]> map = newMap();
    private final AtomicLong keyCount = new AtomicLong();
    private final AtomicLong sizeBytes = new AtomicLong();

    private static final Comparator<byte[]> KEY_ORDER = Arrays::compareUnsigned;

    private static ConcurrentSkipListMap<byte[], byte[]> newMap() {
        return new ConcurrentSkipListMap<>(KEY_ORDER);
    }

    @Override
    public byte[] get(byte[] key) {
        return map.get(key);
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
        byte[] old = map.put(key, value);
        if (old == null) {
            keyCount.incrementAndGet();
            sizeBytes.addAndGet(key.length + value.length + ENTRY_OVERHEAD_BYTES);
        } else {
            sizeBytes.addAndGet(value.length - old.length);
        }
    }

    private void applyDelete(byte[] key) {
        if (key == null) {
            throw new IllegalArgumentException("key must not be null");
        }
        saveBeforeImage(key);
        byte[] old = map.remove(key);
        if (old != null) {
            keyCount.decrementAndGet();
            sizeBytes.addAndGet(-(key.length + old.length + ENTRY_OVERHEAD_BYTES));
        }
    }

    private void saveBeforeImage(byte[] key) {
        for (MemorySnapshot snapshot : openSnapshots) {
            if (!snapshot.overlay.containsKey(key)) {
                byte[] current = map.get(key);
                snapshot.overlay.put(key, current == null ? ABSENT : current);
            }
        }
    }

    @Override
    public ScanPage scan(ScanRequest request) {
        ConcurrentSkipListMap<byte[], byte[]> current = map;
        Map<byte[], byte[]> range = request.endKey() == null
                ? current.tailMap(request.startKey(), true)
                : (Keys.compare(request.startKey(), request.endKey()) >= 0 ? Map.of() : current.subMap(request.startKey(), true, request.endKey(), false));
        List<KeyValue> entries = new ArrayList<>();
        long bytes = 0;
        Iterator<Map.Entry<byte[], byte[]>> iterator = range.entrySet().iterator();
        while (iterator.hasNext()) {
            if (entries.size() >= request.limit() || (!entries.isEmpty() && bytes >= request.maxBytes())) {
                byte[] lastKey = entries.get(entries.size() - 1).key();
                return new ScanPage(entries, Keys.successor(lastKey));
            }
            Map.Entry<byte[], byte[]> entry = iterator.next();
            entries.add(new KeyValue(entry.getKey(), entry.getValue()));
            bytes += entry.getKey().length + entry.getValue().length;
        }
        return new ScanPage(entries, null);
    }

    @Override
    public EngineSnapshot snapshot() {
        writeLock.lock();
        try {
            MemorySnapshot snapshot = new MemorySnapshot(map);
            openSnapshots.add(snapshot);
            return snapshot;
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public void restore(Iterator<KeyValue> entries) {
        SortedRestoreSource source = new SortedRestoreSource(entries, KEY_ORDER, ENTRY_OVERHEAD_BYTES);
        ConcurrentSkipListMap<byte[], byte[]> loaded = new ConcurrentSkipListMap<>(source);
        long count = source.count();
        long bytes = source.sizeBytes();
        writeLock.lock();
        try {
            // Open snapshots keep iterating the old map, which no one writes any more.
            map = loaded;
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
        private final ConcurrentSkipListMap<byte[], byte[]> live;
        private final ConcurrentSkipListMap<byte[], Object> overlay = new ConcurrentSkipListMap<>(Arrays::compareUnsigned);

        MemorySnapshot(ConcurrentSkipListMap<byte[], byte[]> live) {
            this.live = live;
        }

        @Override
        public Iterator<KeyValue> iterator() {
            return new Iterator<>() {
                private byte[] last;
                private KeyValue next = advance();

                /*
                 * Point queries, not the maps' weakly consistent iterators: the live map is asked
                 * first, then the overlay. A key deleted after the snapshot is missing from the live
                 * map only after its before image is in the overlay, so the overlay query finds it.
                 */
                private KeyValue advance() {
                    while (true) {
                        byte[] liveNext = last == null ? firstKey(live) : live.higherKey(last);
                        byte[] overlayNext = last == null ? firstKey(overlay) : overlay.higherKey(last);
                        byte[] key = min(liveNext, overlayNext);
                        if (key == null) {
                            return null;
                        }
                        last = key;
                        byte[] liveValue = live.get(key);
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
