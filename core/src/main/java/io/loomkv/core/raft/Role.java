package io.loomkv.core.raft;

/** The role a node plays in its current term. */
public enum Role {
    FOLLOWER,
    /** Asking for pre-votes (PreVote): its term is not raised until a quorum would vote for it. */
    PRE_CANDIDATE,
    CANDIDATE,
    LEADER
}
