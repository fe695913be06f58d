package io.loomkv.core.engine;

import java.util.Arrays;
import java.util.Objects;

/** One key and its value. The arrays are shared, not copied: treat them as immutable. */
public record KeyValue(byte[] key, byte[] value) {
    public KeyValue {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof KeyValue kv && Arrays.equals(key, kv.key) && Arrays.equals(value, kv.value);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(key) + Arrays.hashCode(value);
    }

    @Override
    public String toString() {
        return "KeyValue[key=" + Keys.describe(key) + ", value=" + value.length + " bytes]";
    }
}
