package io.loomkv.core.raft;

/**
 * The settings of one Raft node. Built with {@link #builder(long)}; {@link Builder#build()}
 * rejects inconsistent values with an {@link IllegalArgumentException} that names them.
 *
 * @param id this node's id, positive
 * @param electionTimeoutTicks ticks without hearing from a leader before a follower campaigns;
 *     the actual timeout is randomized in {@code [electionTimeoutTicks, 2 * electionTimeoutTicks)}
 * @param heartbeatTicks ticks between leader heartbeats, below the election timeout
 * @param randomSeed seeds the randomized election timeouts (mixed with the id, so nodes given
 *     the same seed still time out differently)
 * @param preVote run a pre-vote round before raising the term (Raft thesis 9.6)
 * @param checkQuorum a leader steps down when it has not heard from a quorum for an election
 *     timeout, and followers ignore votes while they hear from a leader
 * @param readOnlyOption how reads are confirmed
 * @param leaseTicks with {@link ReadOnlyOption#LEASE_BASED}: how long after a quorum
 *     acknowledged a heartbeat the leader may serve reads without a round trip; shorter than the
 *     election timeout, leaving room for clock drift
 * @param maxEntriesPerAppend at most this many entries in one AppendEntries
 * @param maxAppendSizeBytes at most this many entry bytes in one AppendEntries (one entry may exceed it)
 * @param maxInflightAppends appends in flight per follower while replicating (the pipeline window)
 * @param maxInflightBytes entry bytes in flight per follower while replicating
 * @param maxCommittedSizePerReadyBytes committed entry bytes handed out per Ready
 * @param maxUncommittedEntriesBytes a leader refuses proposals beyond this many uncommitted entry bytes
 * @param maxSnapshotChunkBytes bytes of snapshot data per MSG_SNAP
 * @param maxSnapshotSizeBytes a follower refuses snapshots larger than this
 * @param maxPendingReads read requests waiting for confirmation at once
 * @param appliedIndex the index the state machine has applied up to when the node (re)starts;
 *     0 means "the snapshot index" (the state machine was restored from the snapshot)
 * @param createdForLeader the runtime created this node's empty log just now for a leader's
 *     message (a Multi-Raft store filling a new replica): a leader's heartbeat whose commit index
 *     the log does not reach then comes from what an earlier replica on the same store
 *     acknowledged, and is answered with a rejection instead of failing the node
 */
public record RaftConfig(
        long id,
        int electionTimeoutTicks,
        int heartbeatTicks,
        long randomSeed,
        boolean preVote,
        boolean checkQuorum,
        ReadOnlyOption readOnlyOption,
        int leaseTicks,
        int maxEntriesPerAppend,
        long maxAppendSizeBytes,
        int maxInflightAppends,
        long maxInflightBytes,
        long maxCommittedSizePerReadyBytes,
        long maxUncommittedEntriesBytes,
        int maxSnapshotChunkBytes,
        long maxSnapshotSizeBytes,
        int maxPendingReads,
        long appliedIndex,
        boolean createdForLeader) {

    public RaftConfig {
        if (id <= 0) {
            throw new IllegalArgumentException("id must be positive, got " + id);
        }
        if (heartbeatTicks <= 0) {
            throw new IllegalArgumentException("heartbeatTicks must be positive, got " + heartbeatTicks);
        }
        if (electionTimeoutTicks <= heartbeatTicks) {
            throw new IllegalArgumentException("electionTimeoutTicks (" + electionTimeoutTicks
                    + ") must be greater than heartbeatTicks (" + heartbeatTicks + ")");
        }
        if (readOnlyOption == null) {
            throw new IllegalArgumentException("readOnlyOption must be non-null");
        }
        if (readOnlyOption == ReadOnlyOption.LEASE_BASED) {
            if (!checkQuorum) {
                throw new IllegalArgumentException("lease-based reads require checkQuorum: without it a deposed "
                        + "leader does not step down and could serve stale reads");
            }
            if (leaseTicks <= 0 || leaseTicks >= electionTimeoutTicks) {
                throw new IllegalArgumentException("leaseTicks (" + leaseTicks
                        + ") must be positive and shorter than electionTimeoutTicks (" + electionTimeoutTicks + ")");
            }
        } else if (leaseTicks != 0) {
            throw new IllegalArgumentException("leaseTicks (" + leaseTicks + ") is only meaningful with LEASE_BASED reads");
        }
        positive("maxEntriesPerAppend", maxEntriesPerAppend);
        positive("maxAppendSizeBytes", maxAppendSizeBytes);
        positive("maxInflightAppends", maxInflightAppends);
        positive("maxInflightBytes", maxInflightBytes);
        positive("maxCommittedSizePerReadyBytes", maxCommittedSizePerReadyBytes);
        positive("maxUncommittedEntriesBytes", maxUncommittedEntriesBytes);
        positive("maxSnapshotChunkBytes", maxSnapshotChunkBytes);
        positive("maxSnapshotSizeBytes", maxSnapshotSizeBytes);
        positive("maxPendingReads", maxPendingReads);
        if (appliedIndex < 0) {
            throw new IllegalArgumentException("appliedIndex must not be negative, got " + appliedIndex);
        }
    }

    private static void positive(String name, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
    }

    public static Builder builder(long id) {
        return new Builder(id);
    }

    /** A builder holding these settings, to derive a changed copy. */
    public Builder toBuilder() {
        Builder b = new Builder(id);
        b.electionTimeoutTicks = electionTimeoutTicks;
        b.heartbeatTicks = heartbeatTicks;
        b.randomSeed = randomSeed;
        b.preVote = preVote;
        b.checkQuorum = checkQuorum;
        b.readOnlyOption = readOnlyOption;
        b.leaseTicks = leaseTicks;
        b.maxEntriesPerAppend = maxEntriesPerAppend;
        b.maxAppendSizeBytes = maxAppendSizeBytes;
        b.maxInflightAppends = maxInflightAppends;
        b.maxInflightBytes = maxInflightBytes;
        b.maxCommittedSizePerReadyBytes = maxCommittedSizePerReadyBytes;
        b.maxUncommittedEntriesBytes = maxUncommittedEntriesBytes;
        b.maxSnapshotChunkBytes = maxSnapshotChunkBytes;
        b.maxSnapshotSizeBytes = maxSnapshotSizeBytes;
        b.maxPendingReads = maxPendingReads;
        b.appliedIndex = appliedIndex;
        b.createdForLeader = createdForLeader;
        return b;
    }

    /**
     * Fluent construction; defaults suit a LAN cluster ticking every ~100 ms (PreVote and
     * CheckQuorum on, ReadIndex reads). Validation happens in {@link #build()}.
     */
    public static final class Builder {
        private final long id;
        private int electionTimeoutTicks = 10;
        private int heartbeatTicks = 1;
        private long randomSeed;
        private boolean preVote = true;
        private boolean checkQuorum = true;
        private ReadOnlyOption readOnlyOption = ReadOnlyOption.SAFE;
        private int leaseTicks;
        private int maxEntriesPerAppend = 4096;
        private long maxAppendSizeBytes = 1L << 20;
        private int maxInflightAppends = 256;
        private long maxInflightBytes = 64L << 20;
        private long maxCommittedSizePerReadyBytes = 4L << 20;
        private long maxUncommittedEntriesBytes = 256L << 20;
        private int maxSnapshotChunkBytes = 1 << 20;
        private long maxSnapshotSizeBytes = 64L << 30;
        private int maxPendingReads = 65_536;
        private long appliedIndex;
        private boolean createdForLeader;

        private Builder(long id) {
            this.id = id;
        }

        public Builder electionTimeoutTicks(int v) { electionTimeoutTicks = v; return this; }
        public Builder heartbeatTicks(int v) { heartbeatTicks = v; return this; }
        public Builder randomSeed(long v) { randomSeed = v; return this; }
        public Builder preVote(boolean v) { preVote = v; return this; }
        public Builder checkQuorum(boolean v) { checkQuorum = v; return this; }
        public Builder readOnlyOption(ReadOnlyOption v) { readOnlyOption = v; return this; }
        public Builder leaseTicks(int v) { leaseTicks = v; return this; }
        public Builder maxEntriesPerAppend(int v) { maxEntriesPerAppend = v; return this; }
        public Builder maxAppendSizeBytes(long v) { maxAppendSizeBytes = v; return this; }
        public Builder maxInflightAppends(int v) { maxInflightAppends = v; return this; }
        public Builder maxInflightBytes(long v) { maxInflightBytes = v; return this; }
        public Builder maxCommittedSizePerReadyBytes(long v) { maxCommittedSizePerReadyBytes = v; return this; }
        public Builder maxUncommittedEntriesBytes(long v) { maxUncommittedEntriesBytes = v; return this; }
        public Builder maxSnapshotChunkBytes(int v) { maxSnapshotChunkBytes = v; return this; }
        public Builder maxSnapshotSizeBytes(long v) { maxSnapshotSizeBytes = v; return this; }
        public Builder maxPendingReads(int v) { maxPendingReads = v; return this; }
        public Builder appliedIndex(long v) { appliedIndex = v; return this; }
        public Builder createdForLeader(boolean v) { createdForLeader = v; return this; }

        /** Sets LEASE_BASED reads with the given lease (requires checkQuorum). */
        public Builder leaseReads(int leaseTicks) {
            this.readOnlyOption = ReadOnlyOption.LEASE_BASED;
            this.leaseTicks = leaseTicks;
            return this;
        }

        public RaftConfig build() {
            return new RaftConfig(id, electionTimeoutTicks, heartbeatTicks, randomSeed, preVote, checkQuorum,
                    readOnlyOption, leaseTicks, maxEntriesPerAppend, maxAppendSizeBytes, maxInflightAppends,
                    maxInflightBytes, maxCommittedSizePerReadyBytes, maxUncommittedEntriesBytes, maxSnapshotChunkBytes,
                    maxSnapshotSizeBytes, maxPendingReads, appliedIndex, createdForLeader);
        }
    }
}
