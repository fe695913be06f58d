package io.loomkv.core.raft;

import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.tracker.ProgressState;
import java.util.Map;

/**
 * A snapshot of a node's state for monitoring and tests.
 *
 * @param progress the leader's view of every member (empty unless this node leads)
 */
public record Status(
        long id,
        long term,
        long vote,
        long commitIndex,
        long appliedIndex,
        long lastIndex,
        long leaderId,
        Role role,
        long leadTransferee,
        ConfState confState,
        Map<Long, FollowerProgress> progress) {

    public Status {
        progress = Map.copyOf(progress);
    }

    /** The leader's view of one member's log. */
    public record FollowerProgress(long match, long next, ProgressState state, boolean learner) {
    }
}
