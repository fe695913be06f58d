package io.loomkv.core.raft.quorum;

/** Gives the highest index a voter has acknowledged, or {@link #NONE} if it is unknown. */
@FunctionalInterface
public interface AckedIndexer {
    /** Returned for a voter that has acknowledged nothing; counts as index 0. */
    long NONE = 0;

    long ackedIndex(long voterId);
}
