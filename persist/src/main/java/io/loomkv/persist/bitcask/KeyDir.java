package io.loomkv.persist.bitcask;

import java.util.Arrays;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The in-memory key directory: key -> where its latest record lives. BitCask's keydir is a hash
 * table; this one is a {@link ConcurrentSkipListMap} in unsigned byte order, so that a view can be
 * read in key order and a slot's range found without sorting every key (docs/bitcask.md has the
 * measurement behind the choice). Reads never lock; changes come from the writer (under the store's
 * write lock) and from a merge's conditional swaps.
 */
final class KeyDir {
    /**
     * Heap per key besides its bytes: the key array's header (16), the entry (40), the skip list's
     * node (24) and its share of index nodes (about 8). Checked against a heap measurement in
     * docs/bitcask.md.
     */
    static final int ENTRY_OVERHEAD_BYTES = 88;

    final ConcurrentSkipListMap<byte[], KeyDirEntry> map = new ConcurrentSkipListMap<>(Arrays::compareUnsigned);
    // Written by one thread at a time (the writer under the write lock, or recovery), read by any.
    private volatile long keyCount;
    private volatile long keyBytes;
    private volatile long liveRecordBytes;

    KeyDirEntry get(byte[] key) {
        return map.get(key);
    }

    /** Sets the key's entry; returns the one it replaces (or null). */
    KeyDirEntry put(byte[] key, KeyDirEntry entry) {
        KeyDirEntry previous = map.put(key, entry);
        if (previous == null) {
            keyCount++;
            keyBytes += key.length;
        } else {
            liveRecordBytes -= previous.recordBytes();
        }
        liveRecordBytes += entry.recordBytes();
        return previous;
    }

    KeyDirEntry remove(byte[] key) {
        KeyDirEntry previous = map.remove(key);
        if (previous != null) {
            keyCount--;
            keyBytes -= key.length;
            liveRecordBytes -= previous.recordBytes();
        }
        return previous;
    }

    /**
     * Moves the key to {@code merged} only if it still points at {@code expected}: a write that came
     * after the merge read the record wins. Record sizes do not change (merge copies verbatim).
     */
    boolean swap(byte[] key, KeyDirEntry expected, KeyDirEntry merged) {
        if (expected.recordBytes() != merged.recordBytes() || expected.sequence() != merged.sequence()) {
            throw new IllegalStateException("a merge must copy records verbatim: " + expected + " vs " + merged);
        }
        return map.replace(key, expected, merged);
    }

    long keyCount() {
        return keyCount;
    }

    long liveRecordBytes() {
        return liveRecordBytes;
    }

    long memoryBytesEstimate() {
        return keyBytes + keyCount * (long) ENTRY_OVERHEAD_BYTES;
    }
}
