package io.loomkv.core.raft.sim;

/**
 * Where an armed crash hits a store, in the middle of what its replicas' drivers do with a Ready.
 * The crash takes the whole store down (every group on it); what the store sent before it is on
 * the wire and still arrives.
 */
public enum CrashPoint {
    /**
     * At the next durable write of any of the store's replicas (a persist, or a snapshot install),
     * before it is written: the Ready's early messages are out, its persist is not.
     */
    BEFORE_PERSIST,
    /**
     * When the store's next fsync completes (or a snapshot install forces the log), before any
     * replica learns it: the writes are durable, their acknowledgements not sent.
     */
    AFTER_PERSIST,
    /** Like {@link #BEFORE_PERSIST}, but only at a persist that holds entries. */
    BEFORE_PERSISTING_ENTRIES
}
