package io.loomkv.core.raft;

/** Thrown by {@link Storage} when the requested index is older than the first index kept in the log (it was compacted into a snapshot). */
public final class CompactedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CompactedException(String message) {
        super(message);
    }
}
