package io.loomkv.persist.engine;

import io.loomkv.core.engine.KeyValue;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Comparator;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.function.Function;

/**
 * A one-pass {@link SortedMap} view of a snapshot's entries, for
 * {@code new ConcurrentSkipListMap<>(SortedMap)}, which links a sorted source into a skip list in
 * linear time instead of searching from the top for every key as {@code put} does (restoring a
 * snapshot of 1,000,000 keys is most of a node's restart). It checks, as it goes, that the keys
 * strictly increase in {@code order}, since the skip list trusts its source; and it counts what
 * passed. Only what that constructor uses is supported: {@link #comparator()} and one iteration
 * of {@link #entrySet()}.
 */
final class SortedRestoreSource<V> extends AbstractMap<byte[], V> implements SortedMap<byte[], V> {
    private final Iterator<KeyValue> entries;
    private final Comparator<byte[]> order;
    private final int entryOverheadBytes;
    private final Function<KeyValue, V> valueOf;
    private boolean iterated;
    private long count;
    private long sizeBytes;

    /** {@code valueOf} makes the map's value of each entry (the engine's cell holding the entry's value, say). */
    SortedRestoreSource(Iterator<KeyValue> entries, Comparator<byte[]> order, int entryOverheadBytes,
            Function<KeyValue, V> valueOf) {
        this.entries = entries;
        this.order = order;
        this.entryOverheadBytes = entryOverheadBytes;
        this.valueOf = valueOf;
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
    public Set<Map.Entry<byte[], V>> entrySet() {
        return new AbstractSet<>() {
            @Override
            public Iterator<Map.Entry<byte[], V>> iterator() {
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

    private final class Checked implements Iterator<Map.Entry<byte[], V>> {
        private byte[] previous;

        @Override
        public boolean hasNext() {
            return entries.hasNext();
        }

        @Override
        public Map.Entry<byte[], V> next() {
            KeyValue entry = entries.next();
            if (previous != null && order.compare(previous, entry.key()) >= 0) {
                throw new IllegalArgumentException("restore needs strictly increasing keys: " + entry + " after a key not smaller");
            }
            previous = entry.key();
            count++;
            sizeBytes += entry.key().length + entry.value().length + entryOverheadBytes;
            return Map.entry(entry.key(), valueOf.apply(entry));
        }
    }

    @Override
    public SortedMap<byte[], V> subMap(byte[] fromKey, byte[] toKey) {
        throw new UnsupportedOperationException("a restore source is only iterated");
    }

    @Override
    public SortedMap<byte[], V> headMap(byte[] toKey) {
        throw new UnsupportedOperationException("a restore source is only iterated");
    }

    @Override
    public SortedMap<byte[], V> tailMap(byte[] fromKey) {
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
