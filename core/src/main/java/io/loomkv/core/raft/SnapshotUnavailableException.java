package io.loomkv.core.raft;

/** Thrown by {@link Storage} when the requested snapshot is not (or no longer) the newest one. */
public final class SnapshotUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public SnapshotUnavailableException(String message) {
        super(message);
    }
}
