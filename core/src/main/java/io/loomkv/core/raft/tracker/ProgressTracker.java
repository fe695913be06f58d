package io.loomkv.core.raft.tracker;

import io.loomkv.core.raft.quorum.VoteResult;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/** The membership plus the leader's progress for every member, and the votes of an election. */
public final class ProgressTracker {
    private final int maxInflight;
    private final long maxInflightBytes;
    private TrackerConfig config = TrackerConfig.empty();
    private NavigableMap<Long, Progress> progress = new TreeMap<>();
    private final Map<Long, Boolean> votes = new HashMap<>();

    public ProgressTracker(int maxInflight, long maxInflightBytes) {
        this.maxInflight = maxInflight;
        this.maxInflightBytes = maxInflightBytes;
    }

    public int maxInflight() {
        return maxInflight;
    }

    public long maxInflightBytes() {
        return maxInflightBytes;
    }

    public TrackerConfig config() {
        return config;
    }

    /** Every member's progress, by ascending id (live view, do not modify through it). */
    public NavigableMap<Long, Progress> progress() {
        return progress;
    }

    public Progress get(long id) {
        return progress.get(id);
    }

    /** Installs a membership produced by the configuration changer. */
    public void apply(TrackerConfig newConfig, NavigableMap<Long, Progress> newProgress) {
        for (long id : newConfig.voters().ids()) {
            if (!newProgress.containsKey(id)) {
                throw new IllegalStateException("no progress for voter " + id + " in " + newProgress.keySet());
            }
        }
        this.config = newConfig;
        this.progress = newProgress;
    }

    /** Whether {@code id} may campaign and vote: it is a voter (in either half). */
    public boolean isVoter(long id) {
        return config.voters().contains(id);
    }

    /** A single voter and nobody else to replicate to. */
    public boolean isSingleton() {
        return config.voters().incoming().size() == 1 && !config.voters().isJoint();
    }

    /** The highest index a quorum has durably acknowledged. */
    public long committed() {
        return config.voters().committedIndex(id -> {
            Progress pr = progress.get(id);
            return pr == null ? 0 : pr.match();
        });
    }

    /** Whether a quorum answered recently; resets the activity marks of everyone but {@code selfId}. */
    public boolean quorumActiveAndReset(long selfId) {
        Map<Long, Boolean> active = new HashMap<>();
        for (Map.Entry<Long, Progress> e : progress.entrySet()) {
            Progress pr = e.getValue();
            if (!pr.isLearner()) {
                active.put(e.getKey(), pr.recentActive() || e.getKey() == selfId);
            }
            if (e.getKey() != selfId) {
                pr.setRecentActive(false);
            }
        }
        return config.voters().voteResult(active) == VoteResult.WON;
    }

    /**
     * The newest leader tick that a quorum has echoed; the leader's own entry counts as
     * {@code nowTick}. A lease taken at that tick is safe.
     */
    public long quorumLeaseTick(long selfId, long nowTick) {
        return config.voters().committedIndex(id -> {
            if (id == selfId) {
                return nowTick;
            }
            Progress pr = progress.get(id);
            return pr == null ? 0 : pr.leaseAckTick();
        });
    }

    public void resetVotes() {
        votes.clear();
    }

    /** Records {@code id}'s vote (the first one counts) and returns the election result so far. */
    public VoteResult recordVote(long id, boolean granted) {
        votes.putIfAbsent(id, granted);
        return config.voters().voteResult(votes);
    }

    public VoteResult voteResult() {
        return config.voters().voteResult(votes);
    }

    public Map<Long, Boolean> votes() {
        return Collections.unmodifiableMap(votes);
    }

    /** A deep copy of the progress map, for the configuration changer. */
    public NavigableMap<Long, Progress> copyProgress() {
        NavigableMap<Long, Progress> copy = new TreeMap<>();
        for (Map.Entry<Long, Progress> e : progress.entrySet()) {
            copy.put(e.getKey(), e.getValue().copy());
        }
        return copy;
    }
}
