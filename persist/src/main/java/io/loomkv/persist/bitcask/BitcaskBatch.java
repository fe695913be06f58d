package io.loomkv.persist.bitcask;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Puts and deletes written together as one record group, with an optional metadata blob (a Raft
 * group stores its applied index there). Recovery applies a group entirely or not at all, and the
 * store's {@link BitcaskStore#metadata()} is the blob of the last group that carried one.
 *
 * <p>The store checks a batch against its limits before it writes anything; a rejected batch
 * changes nothing. Arrays handed in must not be changed afterwards (they are not copied).
 */
public final class BitcaskBatch {
    private final List<byte[]> keys = new ArrayList<>();
    private final List<byte[]> values = new ArrayList<>(); // null: delete
    private byte[] metadata;
    private long recordsBytes;

    public BitcaskBatch put(byte[] key, byte[] value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        keys.add(key);
        values.add(value);
        recordsBytes += RecordFormat.recordBytes(key.length, value.length);
        return this;
    }

    public BitcaskBatch delete(byte[] key) {
        Objects.requireNonNull(key, "key");
        keys.add(key);
        values.add(null);
        recordsBytes += RecordFormat.recordBytes(key.length, RecordFormat.TOMBSTONE);
        return this;
    }

    /** The blob stored with this group (replacing the store's current one); null: keep the current one. */
    public BitcaskBatch metadata(byte[] blob) {
        this.metadata = blob;
        return this;
    }

    public int size() {
        return keys.size();
    }

    byte[] key(int index) {
        return keys.get(index);
    }

    /** The value of op {@code index}, or null for a delete. */
    byte[] value(int index) {
        return values.get(index);
    }

    byte[] metadata() {
        return metadata;
    }

    long recordsBytes() {
        return recordsBytes;
    }

    /** Bytes the group takes on disk. */
    long groupBytes() {
        return RecordFormat.GROUP_HEADER_BYTES + (metadata == null ? 0 : metadata.length) + recordsBytes;
    }
}
