package io.loomkv.core.raft.tracker;

import io.loomkv.core.raft.proto.SnapshotMetadata;

/**
 * The leader's view of one follower's log (etcd's tracker.Progress), plus the state of a
 * chunked snapshot transfer to it.
 */
public final class Progress {
    private long match;
    private long next;
    private ProgressState state = ProgressState.PROBE;
    private long pendingSnapshotIndex;
    private boolean recentActive;
    private boolean msgAppFlowPaused;
    private boolean learner;
    private Inflights inflights;
    /** The highest commit index this follower can have learned from what was sent to it. */
    private long sentCommit;
    /** The highest leader tick echoed by this follower's heartbeat responses (for leases). */
    private long leaseAckTick;

    private SnapshotMetadata snapshotInTransfer;
    private long snapshotOffsetBytes;
    private boolean snapshotChunkInFlight;
    /** The acknowledgement the chunk in flight should earn: its offset plus its length. */
    private long snapshotAckExpectedBytes;

    public Progress(long match, long next, int maxInflight, long maxInflightBytes, boolean learner) {
        if (next <= match) {
            throw new IllegalStateException("next " + next + " must exceed match " + match);
        }
        this.match = match;
        this.next = next;
        this.inflights = new Inflights(maxInflight, maxInflightBytes);
        this.learner = learner;
    }

    /** An independent copy, for the configuration changer. */
    public Progress copy() {
        Progress copy = new Progress(match, next, 1, 1, learner);
        copy.inflights = inflights.copy();
        copy.state = state;
        copy.pendingSnapshotIndex = pendingSnapshotIndex;
        copy.recentActive = recentActive;
        copy.msgAppFlowPaused = msgAppFlowPaused;
        copy.leaseAckTick = leaseAckTick;
        copy.sentCommit = sentCommit;
        copy.snapshotInTransfer = snapshotInTransfer;
        copy.snapshotOffsetBytes = snapshotOffsetBytes;
        copy.snapshotChunkInFlight = snapshotChunkInFlight;
        copy.snapshotAckExpectedBytes = snapshotAckExpectedBytes;
        return copy;
    }

    private void resetState(ProgressState newState) {
        msgAppFlowPaused = false;
        pendingSnapshotIndex = 0;
        state = newState;
        inflights.reset();
        snapshotInTransfer = null;
        snapshotOffsetBytes = 0;
        snapshotChunkInFlight = false;
        snapshotAckExpectedBytes = 0;
    }

    /** Back to probing, after a rejection, an unreachable report or a finished snapshot. */
    public void becomeProbe() {
        if (state == ProgressState.SNAPSHOT) {
            long pending = pendingSnapshotIndex;
            resetState(ProgressState.PROBE);
            next = Math.max(match + 1, pending + 1);
        } else {
            resetState(ProgressState.PROBE);
            next = match + 1;
        }
    }

    /**
     * Starts over with a follower whose log ends at {@code lastIndex}, below what it matched: the
     * only way match moves down, for a non-voter its store replaced with an empty one (a voter
     * that lost an acknowledged entry of its own fails instead).
     */
    public void restartFrom(long lastIndex) {
        if (lastIndex >= match) {
            throw new IllegalArgumentException("restart from " + lastIndex + " is not below match " + match);
        }
        resetState(ProgressState.PROBE);
        match = lastIndex;
        next = lastIndex + 1;
        sentCommit = Math.min(sentCommit, lastIndex);
    }

    public void becomeReplicate() {
        resetState(ProgressState.REPLICATE);
        next = match + 1;
    }

    /** Starts sending the snapshot described by {@code metadata}, from its first byte. */
    public void becomeSnapshot(SnapshotMetadata metadata) {
        resetState(ProgressState.SNAPSHOT);
        pendingSnapshotIndex = metadata.getIndex();
        snapshotInTransfer = metadata;
    }

    /** Raises match to {@code index}; true if it moved. */
    public boolean maybeUpdate(long index) {
        boolean updated = false;
        if (match < index) {
            match = index;
            updated = true;
            msgAppFlowPaused = false;
        }
        next = Math.max(next, index + 1);
        return updated;
    }

    /**
     * Handles a rejected append of the entry after {@code rejectedIndex}; {@code matchHint} is
     * the follower's (or the leader's refinement of the) guess of the last matching index.
     * Returns false for a stale rejection.
     */
    public boolean maybeDecreaseTo(long rejectedIndex, long matchHint) {
        if (state == ProgressState.REPLICATE) {
            if (rejectedIndex <= match) {
                return false;
            }
            next = match + 1;
            return true;
        }
        if (next - 1 != rejectedIndex) {
            return false;
        }
        next = Math.max(Math.min(rejectedIndex, matchHint + 1), match + 1);
        msgAppFlowPaused = false;
        return true;
    }

    /** Accounts for an append of {@code entryCount} entries and {@code bytes} just sent. */
    public void sentEntries(int entryCount, long bytes) {
        switch (state) {
            case REPLICATE -> {
                if (entryCount > 0) {
                    next += entryCount;
                    inflights.add(next - 1, bytes);
                }
                msgAppFlowPaused = inflights.full();
            }
            case PROBE -> {
                if (entryCount > 0) {
                    msgAppFlowPaused = true;
                }
            }
            case SNAPSHOT -> throw new IllegalStateException("sending entries in state SNAPSHOT, match=" + match);
        }
    }

    /** Whether the leader must hold further appends to this follower for now. */
    public boolean isPaused() {
        return switch (state) {
            case PROBE -> msgAppFlowPaused;
            case REPLICATE -> msgAppFlowPaused;
            case SNAPSHOT -> true;
        };
    }

    public long match() {
        return match;
    }

    public long next() {
        return next;
    }

    public void setNext(long next) {
        this.next = next;
    }

    public void setMatch(long match) {
        this.match = match;
    }

    public ProgressState state() {
        return state;
    }

    public long pendingSnapshotIndex() {
        return pendingSnapshotIndex;
    }

    public boolean recentActive() {
        return recentActive;
    }

    public void setRecentActive(boolean recentActive) {
        this.recentActive = recentActive;
    }

    public boolean msgAppFlowPaused() {
        return msgAppFlowPaused;
    }

    public void setMsgAppFlowPaused(boolean paused) {
        this.msgAppFlowPaused = paused;
    }

    public boolean isLearner() {
        return learner;
    }

    public void setLearner(boolean learner) {
        this.learner = learner;
    }

    public Inflights inflights() {
        return inflights;
    }

    /** Records that a message let the follower commit up to {@code commit}. */
    public void sentCommit(long commit) {
        sentCommit = Math.max(sentCommit, commit);
    }

    /**
     * Whether sending {@code commit} could move the follower's commit index: not if what was
     * already sent (with appends or heartbeats) carried it. Lost messages are covered by
     * heartbeats, which always carry the commit index.
     */
    public boolean canBumpCommit(long commit) {
        return commit > sentCommit && sentCommit < next - 1;
    }

    public long leaseAckTick() {
        return leaseAckTick;
    }

    public void setLeaseAckTick(long tick) {
        this.leaseAckTick = tick;
    }

    public SnapshotMetadata snapshotInTransfer() {
        return snapshotInTransfer;
    }

    public long snapshotOffsetBytes() {
        return snapshotOffsetBytes;
    }

    /** Restarts the transfer with a newer snapshot (the old one was replaced in storage). */
    public void restartSnapshot(SnapshotMetadata metadata) {
        if (state != ProgressState.SNAPSHOT) {
            throw new IllegalStateException("restartSnapshot in state " + state);
        }
        snapshotInTransfer = metadata;
        pendingSnapshotIndex = metadata.getIndex();
        snapshotOffsetBytes = 0;
        snapshotChunkInFlight = false;
    }

    public boolean snapshotChunkInFlight() {
        return snapshotChunkInFlight;
    }

    /** Records that the chunk {@code [snapshotOffsetBytes, ackExpectedBytes)} was sent. */
    public void sentSnapshotChunk(long ackExpectedBytes) {
        this.snapshotChunkInFlight = true;
        this.snapshotAckExpectedBytes = ackExpectedBytes;
    }

    /**
     * Handles a follower's "next offset I expect" for the snapshot in transfer. Returns true if it
     * acknowledges the chunk in flight (send the next one now). Any other answer (a duplicate, or
     * a follower that restarted and wants offset 0) only moves the offset; the next heartbeat
     * response resends from there, so duplicates never multiply into parallel streams.
     */
    public boolean snapshotAcknowledged(long nextOffsetBytes) {
        boolean expected = snapshotChunkInFlight && nextOffsetBytes == snapshotAckExpectedBytes;
        snapshotOffsetBytes = nextOffsetBytes;
        snapshotChunkInFlight = false;
        return expected;
    }

    @Override
    public String toString() {
        return "Progress{state=" + state + ", match=" + match + ", next=" + next
                + (learner ? ", learner" : "")
                + (pendingSnapshotIndex > 0 ? ", pendingSnapshot=" + pendingSnapshotIndex : "")
                + ", inflight=" + inflights.count() + "}";
    }
}
