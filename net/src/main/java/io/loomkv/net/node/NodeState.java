package io.loomkv.net.node;

import io.loomkv.core.raft.Role;

/**
 * What other threads may read about the node without asking the Raft loop: who leads, our role,
 * and whether the node stopped serving (removed from the cluster, or failed). Written only by the
 * loop (and the apply thread for {@link #appliedIndex}).
 */
final class NodeState {
    private volatile long leaderId;
    private volatile Role role = Role.FOLLOWER;
    private volatile boolean removed;
    private volatile Throwable failure;
    private volatile long appliedIndex;

    long leaderId() {
        return leaderId;
    }

    Role role() {
        return role;
    }

    boolean isLeader() {
        return role == Role.LEADER;
    }

    void setLeadership(long leader, Role newRole) {
        this.leaderId = leader;
        this.role = newRole;
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
            return "node stopped after a failure: " + failure;
        }
        if (removed) {
            return "node was removed from the cluster";
        }
        return null;
    }
}
