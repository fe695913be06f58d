package io.loomkv.core.kv;

import com.google.protobuf.ByteString;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;

/** A test-only engine over a TreeMap in unsigned byte order; counts writes for atomicity checks. */
final class InMemoryKvEngine implements KvEngine {

    private final TreeMap<ByteString, ByteString> map = new TreeMap<>(Keys.ORDER);
    private int writeCalls;

    @Override
    public Optional<ByteString> get(ByteString key) {
        return Optional.ofNullable(map.get(key));
    }

    @Override
    public void write(List<KvMutation> mutations) {
        writeCalls++;
        for (KvMutation mutation : mutations) {
            switch (mutation) {
                case KvMutation.Put put -> map.put(put.key(), put.value());
                case KvMutation.Delete delete -> map.remove(delete.key());
            }
        }
    }

    @Override
    public void scan(ByteString startInclusive, ByteString endExclusive, EntryVisitor visitor) {
        NavigableMap<ByteString, ByteString> range = endExclusive.isEmpty()
                ? map.tailMap(startInclusive, true)
                : map.subMap(startInclusive, true, endExclusive, false);
        for (Map.Entry<ByteString, ByteString> entry : range.entrySet()) {
            if (!visitor.visit(entry.getKey(), entry.getValue())) {
                return;
            }
        }
    }

    @Override
    public boolean isEmpty() {
        return map.isEmpty();
    }

    int writeCalls() {
        return writeCalls;
    }

    /** A copy of the contents, for comparisons. */
    TreeMap<ByteString, ByteString> contents() {
        return new TreeMap<>(map);
    }
}
