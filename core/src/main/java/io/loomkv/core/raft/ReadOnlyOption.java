package io.loomkv.core.raft;

/** How a leader confirms it still leads before answering a read. */
public enum ReadOnlyOption {
    /** ReadIndex: one heartbeat round acknowledged by a quorum confirms leadership. */
    SAFE,
    /**
     * Lease-based: no round trip while a quorum heard from the leader within the lease. Relies
     * on bounded clock drift; requires CheckQuorum and a lease shorter than the election timeout.
     */
    LEASE_BASED
}
