package io.loomkv.core.lincheck;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Requests of the key-value model ({@link KvModel}). Keys and values are strings; a harness over
 * byte arrays maps them losslessly, e.g. with ISO-8859-1 or hex.
 */
public sealed interface KvInput {

    /** Read one key. Output: {@link KvOutput.Value}. */
    record Get(String key) implements KvInput {
        public Get {
            Objects.requireNonNull(key, "key");
        }

        @Override
        public String toString() {
            return "get(" + key + ")";
        }
    }

    /** Write one key. Output: {@link KvOutput.Ok}. */
    record Put(String key, String value) implements KvInput {
        public Put {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
        }

        @Override
        public String toString() {
            return "put(" + key + ", '" + value + "')";
        }
    }

    /** Append to one key's value (an absent key counts as empty). Output: {@link KvOutput.Ok}. */
    record Append(String key, String value) implements KvInput {
        public Append {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
        }

        @Override
        public String toString() {
            return "append(" + key + ", '" + value + "')";
        }
    }

    /** Remove one key (absent or not). Output: {@link KvOutput.Ok}. */
    record Delete(String key) implements KvInput {
        public Delete {
            Objects.requireNonNull(key, "key");
        }

        @Override
        public String toString() {
            return "delete(" + key + ")";
        }
    }

    /**
     * Set {@code key} to {@code newValue} iff its current value equals {@code expected} ({@code
     * null}: iff the key is absent). Output: {@link KvOutput.CasResult}.
     */
    record CompareAndSet(String key, String expected, String newValue) implements KvInput {
        public CompareAndSet {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(newValue, "newValue");
        }

        @Override
        public String toString() {
            return "cas(" + key + ", " + (expected == null ? "absent" : "'" + expected + "'") + " -> '"
                    + newValue + "')";
        }
    }

    /** Read several keys atomically. Output: {@link KvOutput.Values} (absent keys left out). */
    record MultiGet(List<String> keys) implements KvInput {
        public MultiGet {
            keys = List.copyOf(keys);
            if (keys.isEmpty()) {
                throw new IllegalArgumentException("multi-get needs at least one key");
            }
        }

        @Override
        public String toString() {
            return "multiGet(" + keys + ")";
        }
    }

    /** Write several keys atomically. Output: {@link KvOutput.Ok}. */
    record MultiPut(SortedMap<String, String> entries) implements KvInput {
        public MultiPut {
            if (entries.isEmpty()) {
                throw new IllegalArgumentException("multi-put needs at least one entry");
            }
            entries = Collections.unmodifiableSortedMap(new TreeMap<>(entries));
        }

        public static MultiPut of(Map<String, String> entries) {
            return new MultiPut(new TreeMap<>(entries));
        }

        @Override
        public String toString() {
            return "multiPut(" + entries + ")";
        }
    }

    /**
     * Read, atomically, the first {@code limit} keys (in key order) starting with {@code prefix}.
     * Output: {@link KvOutput.Values}. A scan may touch any key, so a history with scans is
     * checked as one partition.
     */
    record Scan(String prefix, int limit) implements KvInput {
        public Scan {
            Objects.requireNonNull(prefix, "prefix");
            if (limit <= 0) {
                throw new IllegalArgumentException("scan limit must be > 0, got " + limit);
            }
        }

        @Override
        public String toString() {
            return "scan('" + prefix + "', " + limit + ")";
        }
    }
}
