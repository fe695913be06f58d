package io.loomkv.core.kv;

import com.google.protobuf.ByteString;
import java.util.Objects;

/** One change in an atomic {@link KvEngine#write} batch. */
public sealed interface KvMutation {

    ByteString key();

    /** Sets {@code key} to {@code value}. */
    record Put(ByteString key, ByteString value) implements KvMutation {
        public Put {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
        }
    }

    /** Removes {@code key}; a no-op when it does not exist. */
    record Delete(ByteString key) implements KvMutation {
        public Delete {
            Objects.requireNonNull(key, "key");
        }
    }
}
