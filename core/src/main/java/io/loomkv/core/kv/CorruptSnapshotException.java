package io.loomkv.core.kv;

import java.io.IOException;

/**
 * A snapshot stream that cannot be restored: truncated, checksum mismatch, a record that does not
 * parse or is over the size bound, or contents that break the state machine's invariants. The
 * state being restored into must be discarded; the running state machine is untouched.
 */
public final class CorruptSnapshotException extends IOException {

    private static final long serialVersionUID = 1L;

    public CorruptSnapshotException(String message) {
        super(message);
    }

    public CorruptSnapshotException(String message, Throwable cause) {
        super(message, cause);
    }
}
