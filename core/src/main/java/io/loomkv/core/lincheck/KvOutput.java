package io.loomkv.core.lincheck;

import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/** Results of the key-value model ({@link KvModel}). */
public sealed interface KvOutput {

    /** The write was acknowledged. */
    Ok OK = new Ok();

    /** Acknowledgement of put, append, delete and multi-put. */
    record Ok() implements KvOutput {
        @Override
        public String toString() {
            return "ok";
        }
    }

    /** Result of a get: the value, or {@code null} when the key is absent. */
    record Value(String value) implements KvOutput {
        public static Value absent() {
            return new Value(null);
        }

        @Override
        public String toString() {
            return value == null ? "absent" : "'" + value + "'";
        }
    }

    /** Result of a compare-and-set. */
    record CasResult(boolean succeeded) implements KvOutput {
        @Override
        public String toString() {
            return succeeded ? "cas-ok" : "cas-failed";
        }
    }

    /** Result of a multi-get or scan: the present keys and their values. */
    record Values(SortedMap<String, String> present) implements KvOutput {
        public Values {
            present = Collections.unmodifiableSortedMap(new TreeMap<>(present));
        }

        public static Values of(Map<String, String> present) {
            return new Values(new TreeMap<>(present));
        }

        @Override
        public String toString() {
            return present.toString();
        }
    }
}
