package io.loomkv.net.node;

import io.loomkv.core.raft.RaftNode;
import io.loomkv.core.raft.Role;

/**
 * What other threads may read about a replica without running in its turn: who leads, its role,
 * and whether it stopped serving (removed from the group, or failed). Written only by its turns
 * (and its apply worker for {@link #appliedIndex}).
 */
final class ReplicaState {
    private volatile long leaderId;
    private volatile Role role = Role.FOLLOWER;
    private volatile boolean removed;
    private volatile Throwable failure;
    private volatile long appliedIndex;
    /** Times a new leader became known (etcd's leader_changes_seen); written by turns only. */
    private volatile long leaderChanges;

    long leaderId() {
        return leaderId;
    }

    Role role() {
        return role;
    }

    boolean isLeader() {
        return role == Role.LEADER;
    }

    /**
     * Whether the replica leads right now, asked in its turn with its {@code node}: the core too,
     * not only the published flag, since a message stepped earlier in the turn may have deposed
     * the node before the Ready that updates the flag.
     */
    boolean leadsNow(RaftNode node) {
        return isLeader() && node.softState().role() == Role.LEADER;
    }

    void setLeadership(long leader, Role newRole) {
        if (leader != 0 && leader != leaderId) {
            leaderChanges = leaderChanges + 1; // One writer (the turn): no lost update.
        }
        this.leaderId = leader;
        this.role = newRole;
    }

    long leaderChanges() {
        return leaderChanges;
    }

    boolean removed() {
        return removed;
    }

    void markRemoved() {
        removed = true;
    }

    Throwable failure() {
        return failure;
    }

    void fail(Throwable cause) {
        if (failure == null) {
            failure = cause;
        }
    }

    long appliedIndex() {
        return appliedIndex;
    }

    void setAppliedIndex(long index) {
        appliedIndex = index;
    }

    /** Why the node cannot serve, or null when it can. */
    String unavailableReason() {
        if (failure != null) {
            return "replica stopped after a failure: " + failure;
        }
        if (removed) {
            return "this store was removed from the group";
        }
        return null;
    }
}
