package io.loomkv.core.kv;

import com.google.protobuf.ByteString;
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
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * A test-only engine for core (which cannot use persist's engines): a TreeMap in unsigned byte
 * order, snapshots by copying, restore all-or-nothing. Counts mutating calls for atomicity checks
 * and scans for cost checks.
 */
public final class InMemoryKvEngine implements KvEngine {

    private TreeMap<byte[], byte[]> map = new TreeMap<>(Arrays::compareUnsigned);
    private int writeCalls;
    private int scanCalls;

    @Override
    public byte[] get(byte[] key) {
        return map.get(key);
    }

    @Override
    public void put(byte[] key, byte[] value) {
        writeCalls++;
        map.put(key, value);
    }

    @Override
    public void delete(byte[] key) {
        writeCalls++;
        map.remove(key);
    }

    @Override
    public void write(WriteBatch batch) {
        writeCalls++;
        for (WriteOp op : batch.ops()) {
            switch (op) {
                case WriteOp.Put put -> map.put(put.key(), put.value());
                case WriteOp.Delete delete -> map.remove(delete.key());
            }
        }
    }

    @Override
    public ScanPage scan(ScanRequest request) {
        scanCalls++;
        NavigableMap<byte[], byte[]> range;
        if (request.endKey() == null) {
            range = map.tailMap(request.startKey(), true);
        } else if (Keys.compare(request.startKey(), request.endKey()) >= 0) {
            range = new TreeMap<>();
        } else {
            range = map.subMap(request.startKey(), true, request.endKey(), false);
        }
        List<KeyValue> entries = new ArrayList<>();
        long bytes = 0;
        for (Map.Entry<byte[], byte[]> entry : range.entrySet()) {
            if (entries.size() >= request.limit() || (!entries.isEmpty() && bytes >= request.maxBytes())) {
                return new ScanPage(entries, entry.getKey());
            }
            entries.add(new KeyValue(entry.getKey(), entry.getValue()));
            bytes += entry.getKey().length + entry.getValue().length;
        }
        return new ScanPage(entries, null);
    }

    @Override
    public EngineSnapshot snapshot() {
        List<KeyValue> copy = new ArrayList<>(map.size());
        for (Map.Entry<byte[], byte[]> entry : map.entrySet()) {
            copy.add(new KeyValue(entry.getKey(), entry.getValue()));
        }
        return new EngineSnapshot() {
            @Override
            public Iterator<KeyValue> iterator() {
                return copy.iterator();
            }

            @Override
            public void close() {}
        };
    }

    @Override
    public void restore(Iterator<KeyValue> entries) {
        TreeMap<byte[], byte[]> loaded = new TreeMap<>(Arrays::compareUnsigned);
        byte[] previous = null;
        while (entries.hasNext()) {
            KeyValue entry = entries.next();
            if (previous != null && Keys.compare(previous, entry.key()) >= 0) {
                throw new IllegalArgumentException("restore needs strictly increasing keys");
            }
            loaded.put(entry.key(), entry.value());
            previous = entry.key();
        }
        writeCalls++;
        map = loaded;
    }

    @Override
    public long approximateKeyCount() {
        return map.size();
    }

    @Override
    public long approximateSizeBytes() {
        long bytes = 0;
        for (Map.Entry<byte[], byte[]> entry : map.entrySet()) {
            bytes += entry.getKey().length + entry.getValue().length;
        }
        return bytes;
    }

    @Override
    public void close() {}

    int writeCalls() {
        return writeCalls;
    }

    int scanCalls() {
        return scanCalls;
    }

    /** A copy of the contents, for comparisons. */
    public TreeMap<ByteString, ByteString> contents() {
        TreeMap<ByteString, ByteString> copy = new TreeMap<>(KvKeys.ORDER);
        for (Map.Entry<byte[], byte[]> entry : map.entrySet()) {
            copy.put(ByteString.copyFrom(entry.getKey()), ByteString.copyFrom(entry.getValue()));
        }
        return copy;
    }
}
