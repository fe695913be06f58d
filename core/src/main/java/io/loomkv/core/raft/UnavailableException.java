package io.loomkv.core.raft;

/** Thrown by {@link Storage} when the requested index is newer than the last index in the log. */
public final class UnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public UnavailableException(String message) {
        super(message);
    }
}
