package io.loomkv.core.raft.quorum;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Two majority configurations that must both agree: the incoming one, and the outgoing one
 * that is non-empty only during joint consensus (Raft thesis section 4.3).
 */
public record JointConfig(MajorityConfig incoming, MajorityConfig outgoing) {

    public JointConfig {
        if (incoming == null || outgoing == null) {
            throw new IllegalArgumentException("incoming and outgoing must be non-null");
        }
    }

    public boolean isJoint() {
        return !outgoing.isEmpty();
    }

    /** Every voter of either half, ascending. */
    public Set<Long> ids() {
        TreeSet<Long> ids = new TreeSet<>(incoming.ids());
        ids.addAll(outgoing.ids());
        return ids;
    }

    public boolean contains(long id) {
        return incoming.contains(id) || outgoing.contains(id);
    }

    /** The largest index committed by both halves. */
    public long committedIndex(AckedIndexer indexer) {
        long in = incoming.committedIndex(indexer);
        long out = outgoing.committedIndex(indexer);
        return Math.min(in, out);
    }

    /** Won only if both halves won; lost if either lost. */
    public VoteResult voteResult(Map<Long, Boolean> votes) {
        VoteResult in = incoming.voteResult(votes);
        VoteResult out = outgoing.voteResult(votes);
        if (in == out) {
            return in;
        }
        if (in == VoteResult.LOST || out == VoteResult.LOST) {
            return VoteResult.LOST;
        }
        return VoteResult.PENDING;
    }
}
