package io.loomkv.core.raft;

import com.google.protobuf.ByteString;

/**
 * A read that became safe: the read identified by {@code context} may be served from the
 * local state machine once it has applied at least {@code index}.
 */
public record ReadState(long index, ByteString context) {
    public ReadState {
        if (context == null) {
            throw new IllegalArgumentException("context must be non-null");
        }
    }
}
