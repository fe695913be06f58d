package io.loomkv.core.raft.quorum;

import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A set of voters decided by simple majority. An empty configuration commits everything and
 * wins every vote, so that a joint configuration with an empty outgoing half behaves like its
 * incoming half alone (as in etcd's quorum package).
 */
public final class MajorityConfig {
    private final long[] voterIds;
    private final Set<Long> voterSet;

    public MajorityConfig(Collection<Long> voters) {
        TreeSet<Long> sorted = new TreeSet<>();
        for (Long id : voters) {
            if (id == null || id <= 0) {
                throw new IllegalArgumentException("voter ids must be positive, got " + voters);
            }
            sorted.add(id);
        }
        this.voterSet = Collections.unmodifiableSet(sorted);
        this.voterIds = sorted.stream().mapToLong(Long::longValue).toArray();
    }

    public static MajorityConfig empty() {
        return new MajorityConfig(Set.of());
    }

    /** The voter ids in ascending order (unmodifiable). */
    public Set<Long> ids() {
        return voterSet;
    }

    public boolean contains(long id) {
        return voterSet.contains(id);
    }

    public int size() {
        return voterIds.length;
    }

    public boolean isEmpty() {
        return voterIds.length == 0;
    }

    /**
     * The largest index acknowledged by a majority: sort the acknowledged indexes and take the
     * one that a quorum has reached. {@link Long#MAX_VALUE} for an empty configuration.
     */
    public long committedIndex(AckedIndexer indexer) {
        int n = voterIds.length;
        if (n == 0) {
            return Long.MAX_VALUE;
        }
        if (n == 1) {
            return indexer.ackedIndex(voterIds[0]);
        }
        long[] acked = new long[n];
        for (int i = 0; i < n; i++) {
            acked[i] = indexer.ackedIndex(voterIds[i]);
        }
        Arrays.sort(acked);
        // With acked sorted ascending, the entry at n - quorum is reached by a quorum of voters.
        return acked[n - (n / 2 + 1)];
    }

    /** Counts votes; voters missing from {@code votes} have not answered yet. */
    public VoteResult voteResult(Map<Long, Boolean> votes) {
        int n = voterIds.length;
        if (n == 0) {
            return VoteResult.WON;
        }
        int granted = 0;
        int missing = 0;
        for (long id : voterIds) {
            Boolean vote = votes.get(id);
            if (vote == null) {
                missing++;
            } else if (vote) {
                granted++;
            }
        }
        int quorum = n / 2 + 1;
        if (granted >= quorum) {
            return VoteResult.WON;
        }
        if (granted + missing >= quorum) {
            return VoteResult.PENDING;
        }
        return VoteResult.LOST;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof MajorityConfig that && voterSet.equals(that.voterSet);
    }

    @Override
    public int hashCode() {
        return voterSet.hashCode();
    }

    @Override
    public String toString() {
        return voterSet.toString();
    }
}
