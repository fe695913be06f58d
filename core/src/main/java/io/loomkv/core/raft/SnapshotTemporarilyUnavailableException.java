package io.loomkv.core.raft;

/**
 * Thrown by {@link Storage#snapshotForTransfer()} when the log was compacted at a point that has
 * no snapshot data to send yet: the storage has asked for one to be written, and the leader tries
 * again later (it sends nothing meanwhile).
 */
public final class SnapshotTemporarilyUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public SnapshotTemporarilyUnavailableException(String message) {
        super(message);
    }
}
