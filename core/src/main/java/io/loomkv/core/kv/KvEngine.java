package io.loomkv.core.kv;

import com.google.protobuf.ByteString;
import java.util.List;
import java.util.Optional;

/**
 * The ordered key-value storage under {@link KvStateMachine}. Keys order by unsigned
 * lexicographic byte comparison ({@link Keys#ORDER}).
 *
 * <p>Interim interface until the storage engines' interface lands; the state machine uses only
 * these operations.
 */
public interface KvEngine {

    /** The value of {@code key}, or empty when the key does not exist. */
    Optional<ByteString> get(ByteString key);

    /** Applies all mutations as one atomic step, in list order. */
    void write(List<KvMutation> mutations);

    /**
     * Visits the entries with {@code startInclusive <= key < endExclusive} in key order until the
     * visitor returns false. An empty {@code endExclusive} means no upper bound.
     */
    void scan(ByteString startInclusive, ByteString endExclusive, EntryVisitor visitor);

    /** Whether the engine holds no entries. */
    boolean isEmpty();

    /** Receives entries from {@link #scan}. */
    @FunctionalInterface
    interface EntryVisitor {
        /** Returns false to stop the scan. */
        boolean visit(ByteString key, ByteString value);
    }
}
