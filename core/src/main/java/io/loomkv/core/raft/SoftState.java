package io.loomkv.core.raft;

/** Volatile state that a runtime may want to observe (not persisted): who leads, and our role. */
public record SoftState(long leaderId, Role role) {
    public SoftState {
        if (role == null) {
            throw new IllegalArgumentException("role must be non-null");
        }
    }
}
