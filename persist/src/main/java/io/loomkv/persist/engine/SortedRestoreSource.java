package io.loomkv.persist.engine;

import io.loomkv.core.engine.KeyValue;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Comparator;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;

/**
 * A one-pass {@link SortedMap} view of a snapshot's entries, for
 * {@code new ConcurrentSkipListMap<>(SortedMap)}, which links a sorted source into a skip list in
 * linear time instead of searching from the top for every key as {@code put} does (restoring a
 * snapshot of 1,000,000 keys is most of a node's restart). It checks, as it goes, that the keys
 * strictly increase in {@code order}, since the skip list trusts its source; and it counts what
 * passed. Only what that constructor uses is supported: {@link #comparator()} and one iteration
 * of {@link #entrySet()}.
 */
final class SortedRestoreSource extends AbstractMap<byte[], byte[]> implements SortedMap<byte[], byte[]> {
    private final Iterator<KeyValue> entries;
    private final Comparator<byte[]> order;
    private final int entryOverheadBytes;
    private boolean iterated;
    private long count;
    private long sizeBytes;

    SortedRestoreSource(Iterator<KeyValue> entries, Comparator<byte[]> order, int entryOverheadBytes) {
        this.entries = entries;
        this.order = order;
        this.entryOverheadBytes = entryOverheadBytes;
    }

    long count() {
        return count;
    }

    /** Keys and values plus {@code entryOverheadBytes} per entry, of everything iterated. */
    long sizeBytes() {
        return sizeBytes;
    }

    @Override
    public Comparator<? super byte[]> comparator() {
        return order;
    }

    @Override
    public Set<Map.Entry<byte[], byte[]>> entrySet() {
        return new AbstractSet<>() {
            @Override
            public Iterator<Map.Entry<byte[], byte[]>> iterator() {
                if (iterated) {
                    throw new IllegalStateException("a restore source can be iterated only once");
                }
                iterated = true;
                return new Checked();
            }

            @Override
            public int size() {
                throw new UnsupportedOperationException("the size of a restore source is known only after iterating it");
            }
        };
    }

    private final class Checked implements Iterator<Map.Entry<byte[], byte[]>> {
        private byte[] previous;

        @Override
        public boolean hasNext() {
            return entries.hasNext();
        }

        @Override
        public Map.Entry<byte[], byte[]> next() {
            KeyValue entry = entries.next();
            if (previous != null && order.compare(previous, entry.key()) >= 0) {
                throw new IllegalArgumentException("restore needs strictly increasing keys: " + entry + " after a key not smaller");
            }
            previous = entry.key();
            count++;
            sizeBytes += entry.key().length + entry.value().length + entryOverheadBytes;
            return Map.entry(entry.key(), entry.value());
        }
    }

    @Override
    public SortedMap<byte[], byte[]> subMap(byte[] fromKey, byte[] toKey) {
        throw new UnsupportedOperationException("a restore source is only iterated");
    }

    @Override
    public SortedMap<byte[], byte[]> headMap(byte[] toKey) {
        throw new UnsupportedOperationException("a restore source is only iterated");
    }

    @Override
    public SortedMap<byte[], byte[]> tailMap(byte[] fromKey) {
        throw new UnsupportedOperationException("a restore source is only iterated");
    }

    @Override
    public byte[] firstKey() {
        throw new UnsupportedOperationException("a restore source is only iterated");
    }

    @Override
    public byte[] lastKey() {
        throw new UnsupportedOperationException("a restore source is only iterated");
    }
}
