package io.loomkv.core.raft.quorum;

/** The outcome of counting votes against a configuration. */
public enum VoteResult {
    /** Not decided yet: enough voters have not answered to win or lose. */
    PENDING,
    /** A quorum refused: the election is lost. */
    LOST,
    /** A quorum granted: the election is won. */
    WON
}
