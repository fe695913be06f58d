package io.loomkv.core.engine;

import java.util.Objects;

/** One operation of a {@link WriteBatch}. */
public sealed interface WriteOp {
    byte[] key();

    record Put(byte[] key, byte[] value) implements WriteOp {
        public Put {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
        }
    }

    record Delete(byte[] key) implements WriteOp {
        public Delete {
            Objects.requireNonNull(key, "key");
        }
    }
}
