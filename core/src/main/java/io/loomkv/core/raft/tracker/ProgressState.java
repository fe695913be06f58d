package io.loomkv.core.raft.tracker;

/** How the leader replicates to one follower (etcd's tracker.StateType). */
public enum ProgressState {
    /**
     * The leader does not know where the follower's log matches: it sends at most one append
     * per heartbeat interval and backs off on rejection.
     */
    PROBE,
    /** The follower is in sync: appends are pipelined, bounded by the in-flight window. */
    REPLICATE,
    /** The follower needs a snapshot: appends stop until the snapshot is installed. */
    SNAPSHOT
}
