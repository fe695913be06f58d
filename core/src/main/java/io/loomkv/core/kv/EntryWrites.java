package io.loomkv.core.kv;

import io.loomkv.core.engine.KvEngine;
import io.loomkv.core.engine.WriteOp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The data writes of one log entry on a persistent engine, held back until the entry is applied
 * whole and then written in one indexed batch together with the sessions it changed and the
 * entry's index. Commands later in the same entry read what earlier ones wrote (a put then an
 * append of the same key), so reads look here before the engine.
 */
final class EntryWrites {
    /** Marks a deleted key; compared by identity, so an empty value is not mistaken for it. */
    private static final byte[] DELETED = new byte[0];

    private final TreeMap<byte[], byte[]> pending = new TreeMap<>(Arrays::compareUnsigned);

    /** The value as this entry left it so far, else the engine's. */
    byte[] get(KvEngine engine, byte[] key) {
        byte[] value = pending.get(key);
        if (value == DELETED) {
            return null;
        }
        return value != null ? value : engine.get(key);
    }

    /** Whether a value is stored under {@code key} as this entry left it so far, else in the engine. */
    boolean contains(KvEngine engine, byte[] key) {
        byte[] value = pending.get(key);
        if (value == null) {
            return engine.contains(key);
        }
        return value != DELETED;
    }

    void put(byte[] key, byte[] value) {
        pending.put(key, value);
    }

    void delete(byte[] key) {
        pending.put(key, DELETED);
    }

    /** The held writes as batch operations (the last write of each key), and forgets them. */
    List<WriteOp> drain() {
        List<WriteOp> ops = new ArrayList<>(pending.size() + 4);
        for (Map.Entry<byte[], byte[]> entry : pending.entrySet()) {
            ops.add(entry.getValue() == DELETED ? new WriteOp.Delete(entry.getKey())
                    : new WriteOp.Put(entry.getKey(), entry.getValue()));
        }
        pending.clear();
        return ops;
    }
}
