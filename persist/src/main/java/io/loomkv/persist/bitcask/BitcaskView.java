package io.loomkv.persist.bitcask;

import io.loomkv.core.engine.KeyValue;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A point-in-time view of a store, for streaming a snapshot while writes and merges go on.
 *
 * <p>It is a frozen key directory without a copy: the view reads the live key directory, and
 * before the writer changes a key it saves into each open view the entry the key had (or "absent")
 * unless the view already holds one; the saved entry wins. So taking a view costs O(files), and it
 * grows by one entry per distinct key written while it is open: at most a second key directory,
 * and the store allows {@link BitcaskOptions#maxOpenViews()} views. A merge moves keys without a
 * before-image (the merged copy is the same record), instead every open view takes a reference to
 * the merged files. The view holds a reference on every file it may read (live when it was taken,
 * or merged since), so a merge deletes no file the view needs until it is closed. The records it
 * reads never change: the data files are append-only, and it only reads below the end they had.
 *
 * <p>Key order comes from the key directory's skip list; an iteration step is two ceiling lookups
 * (live, then saved) and reads the value with one positioned read.
 */
public final class BitcaskView implements AutoCloseable {
    private final BitcaskStore store;
    private final ConcurrentSkipListMap<byte[], KeyDirEntry> live;
    private final ConcurrentSkipListMap<byte[], KeyDirEntry> beforeImages = new ConcurrentSkipListMap<>(Arrays::compareUnsigned);
    private final Map<Long, DataFile> files;
    private final byte[] metadata;
    private final long sequence;
    private final long keyCount;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicLong beforeImageBytes = new AtomicLong();

    BitcaskView(BitcaskStore store, ConcurrentSkipListMap<byte[], KeyDirEntry> live, Map<Long, DataFile> files, byte[] metadata,
            long sequence, long keyCount) {
        this.store = store;
        this.live = live;
        this.files = files;
        this.metadata = metadata;
        this.sequence = sequence;
        this.keyCount = keyCount;
    }

    /** The store's metadata when the view was taken. */
    public byte[] metadata() {
        return metadata.clone();
    }

    /** The last sequence the view includes. */
    public long sequence() {
        return sequence;
    }

    /** Keys in the view. */
    public long keyCount() {
        return keyCount;
    }

    /** The value {@code key} had when the view was taken, or null. */
    public byte[] get(byte[] key) {
        checkOpen();
        KeyDirEntry entry = live.get(key);
        KeyDirEntry saved = beforeImages.get(key); // read second: a changed live entry always has its before-image saved first
        if (saved != null) {
            entry = saved;
        }
        return entry == null || entry == KeyDirEntry.ABSENT ? null : read(key, entry);
    }

    /** Every key and value of the view in unsigned key order. */
    public Iterator<KeyValue> iterator() {
        return iterator(new byte[0], null);
    }

    /** Keys in {@code [startKey, endKey)} ({@code endKey} null: to the end) in unsigned key order, with their values. */
    public Iterator<KeyValue> iterator(byte[] startKey, byte[] endKey) {
        Iterator<Map.Entry<byte[], KeyDirEntry>> entries = entries(startKey, endKey);
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return entries.hasNext();
            }

            @Override
            public KeyValue next() {
                Map.Entry<byte[], KeyDirEntry> next = entries.next();
                return new KeyValue(next.getKey(), read(next.getKey(), next.getValue()));
            }
        };
    }

    /** The view's key directory entries in key order (the values are not read). */
    Iterator<Map.Entry<byte[], KeyDirEntry>> entries(byte[] startKey, byte[] endKey) {
        if (startKey == null) {
            throw new IllegalArgumentException("startKey must not be null (use an empty array for the start)");
        }
        checkOpen();
        return new Iterator<>() {
            private byte[] last;
            private Map.Entry<byte[], KeyDirEntry> next;
            private boolean done;

            @Override
            public boolean hasNext() {
                if (next == null && !done) {
                    next = advance();
                    done = next == null;
                }
                return next != null;
            }

            @Override
            public Map.Entry<byte[], KeyDirEntry> next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                Map.Entry<byte[], KeyDirEntry> result = next;
                next = null;
                return result;
            }

            /**
             * The next key after {@code last}. The live map is asked first and the saved entries
             * second: a key the view holds is either unchanged in the live map at the first lookup,
             * or its before-image was saved before that lookup and the second one finds it.
             */
            private Map.Entry<byte[], KeyDirEntry> advance() {
                while (true) {
                    checkOpen();
                    Map.Entry<byte[], KeyDirEntry> fromLive = inRange(last == null ? live.ceilingEntry(startKey) : live.higherEntry(last));
                    Map.Entry<byte[], KeyDirEntry> fromSaved = inRange(last == null
                            ? beforeImages.ceilingEntry(startKey) : beforeImages.higherEntry(last));
                    if (fromLive == null && fromSaved == null) {
                        return null;
                    }
                    byte[] key;
                    KeyDirEntry entry;
                    if (fromSaved != null && (fromLive == null || Arrays.compareUnsigned(fromSaved.getKey(), fromLive.getKey()) <= 0)) {
                        key = fromSaved.getKey();
                        entry = fromSaved.getValue();
                    } else {
                        key = fromLive.getKey();
                        KeyDirEntry saved = beforeImages.get(key);
                        entry = saved != null ? saved : fromLive.getValue();
                    }
                    last = key;
                    if (entry != KeyDirEntry.ABSENT) {
                        return Map.entry(key, entry);
                    }
                }
            }

            private Map.Entry<byte[], KeyDirEntry> inRange(Map.Entry<byte[], KeyDirEntry> entry) {
                return entry == null || (endKey != null && Arrays.compareUnsigned(entry.getKey(), endKey) >= 0) ? null : entry;
            }
        };
    }

    private byte[] read(byte[] key, KeyDirEntry entry) {
        DataFile file = files.get(entry.fileId());
        if (file == null) {
            throw new IllegalStateException("view of sequence " + sequence + " holds no file " + entry.fileId() + " for " + entry);
        }
        try {
            return BitcaskStore.readValue(file, entry, key);
        } catch (IOException e) {
            checkOpen();
            throw new UncheckedIOException(e);
        }
    }

    /** Called by the writer, under the store's write lock, before it changes {@code key}. */
    void saveBeforeImage(byte[] key, KeyDirEntry current) {
        if (beforeImages.putIfAbsent(key, current == null ? KeyDirEntry.ABSENT : current) == null) {
            beforeImageBytes.addAndGet(key.length + KeyDir.ENTRY_OVERHEAD_BYTES);
        }
    }

    /** Called under the store's write lock when a merge publishes a file the live key directory will point into. */
    void adopt(DataFile file) {
        file.retain();
        files.put(file.id(), file);
    }

    long beforeImageBytesEstimate() {
        return beforeImageBytes.get();
    }

    /** Files the view holds (tests). */
    Map<Long, DataFile> heldFiles() {
        return files;
    }

    private void checkOpen() {
        if (closed.get()) {
            throw new IllegalStateException("view of sequence " + sequence + " is closed");
        }
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            store.closeView(this, files);
        }
    }
}
