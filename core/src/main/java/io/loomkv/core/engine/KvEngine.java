package io.loomkv.core.engine;

import java.util.Iterator;

/**
 * Ordered key-value storage under the KV state machine. Keys and values are byte arrays; keys are
 * ordered by unsigned lexicographic byte order (as RocksDB's default comparator), so range and
 * prefix scans and snapshots see keys in the same order on every engine.
 *
 * <p>The interface is pure: it names no files or streams. Where the bytes live (memory, an LSM tree
 * on disk) is the implementation's business, and snapshots leave as an ordered iteration that the
 * caller streams wherever it wants, and come back the same way through {@link #restore}.
 *
 * <p>Threading: one writer at a time (the apply thread); reads, scans and snapshots may run on
 * other threads concurrently. Arrays handed to the engine must not be changed afterwards, and
 * arrays it returns must not be changed by the caller (implementations may share them to avoid
 * copies).
 */
public interface KvEngine extends AutoCloseable {

    /** The value stored under {@code key}, or null. */
    byte[] get(byte[] key);

    /**
     * Whether a value (possibly empty) is stored under {@code key}: what {@code get(key) != null}
     * says. A write that only needs to know whether its key existed (a put's or a delete's reply)
     * asks this on every replica, so an engine that can answer without reading or copying the
     * value (a BitCask key directory; RocksDB without handing the value to Java) overrides it.
     */
    default boolean contains(byte[] key) {
        return get(key) != null;
    }

    void put(byte[] key, byte[] value);

    /** Removes {@code key}; absent keys are not an error (an LSM engine cannot tell cheaply). */
    void delete(byte[] key);

    /** Applies every operation of the batch, in order, as one atomic step for readers and snapshots. */
    void write(WriteBatch batch);

    /** One page of keys in the request's range, in key order. */
    ScanPage scan(ScanRequest request);

    /**
     * A consistent point-in-time view: writes made after this call are not visible through it.
     * Close it when done; an engine may keep extra state while snapshots are open.
     */
    EngineSnapshot snapshot();

    /**
     * Replaces the whole contents with {@code entries}, which must come in strictly increasing key
     * order (as a snapshot yields them); otherwise it throws and the engine keeps its old contents.
     */
    void restore(Iterator<KeyValue> entries);

    /** Number of keys (exact for the memory engine, an estimate for an LSM engine). */
    long approximateKeyCount();

    /** Bytes of keys and values stored (an estimate). */
    long approximateSizeBytes();

    @Override
    void close();
}
