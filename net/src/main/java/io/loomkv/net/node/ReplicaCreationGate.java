package io.loomkv.net.node;

import io.loomkv.core.shard.GroupIds;
import io.loomkv.core.shard.ReplicaMovePlanner;
import io.loomkv.core.shard.SlotLayout;
import java.util.HashMap;
import java.util.Map;

/**
 * Whether a store creates an empty replica of a group when a leader's first message for it
 * arrives (the leader added the store to the group: a replica move, or a member added by hand).
 *
 * <p>The limit on moves coming in ({@link ReplicaMovePlanner#mayCreate}) counts only groups the
 * store's layout says were moved, so a store whose layout lags the configuration that moved a
 * group to it would see that group as unmanaged and let it past the limit: StoreReplicaMoveTest
 * saw a third replica created 12 ms before its store learned the configuration that moved it. So
 * a group the layout neither places here nor manages waits until the store's layout was refreshed
 * after the leader first asked ({@link Decision#WAIT}; the leader retries its message meanwhile),
 * and is then judged by the refreshed layout. A group added by hand (unmanaged indeed) waits one
 * refresh, at most a few hundred milliseconds.
 *
 * <p>Not thread-safe: the store calls it under its replica-creation lock. No clock of its own:
 * the caller passes the time and when its layout was last known fresh.
 */
final class ReplicaCreationGate {
    enum Decision {
        /** Create the replica. */
        CREATE,
        /** Ask again once the store's layout has been refreshed (the caller asks for a refresh). */
        WAIT,
        /** Not now: the group is gone, the message is stale, or the store fills enough moves already. */
        REFUSE
    }

    /** Bound on the groups remembered; only groups of the layout get here, but it must never grow without end. */
    private final int maxRemembered;
    /** Groups a leader asked for that the layout did not place here, and when first. */
    private final Map<Long, Long> firstAskedNanos = new HashMap<>();

    ReplicaCreationGate(int maxRemembered) {
        this.maxRemembered = maxRemembered;
    }

    /**
     * Decides for {@code group} on store {@code storeId}, by the freshest {@code layout} the store
     * has, with {@code incomingMoves} moved replicas already being filled here, at {@code nowNanos},
     * the layout having been refreshed as of {@code layoutFreshAsOfNanos} (both System.nanoTime()).
     */
    Decision decide(SlotLayout layout, long group, long storeId, int incomingMoves, long nowNanos, long layoutFreshAsOfNanos) {
        if (group != GroupIds.CONTROLLER_GROUP_ID) {
            if (!layout.hasGroup(group)) {
                return Decision.REFUSE; // Removed by a configuration newer than the message's leader knew.
            }
            if (!layout.replicas(group).contains(storeId) && !ReplicaMovePlanner.managed(layout, group)) {
                long asked = firstAskedNanos.computeIfAbsent(group, g -> nowNanos);
                if (layoutFreshAsOfNanos - asked <= 0) {
                    if (firstAskedNanos.size() > maxRemembered) {
                        firstAskedNanos.clear();
                    }
                    return Decision.WAIT;
                }
            }
            firstAskedNanos.remove(group);
        }
        return ReplicaMovePlanner.mayCreate(layout, group, storeId, incomingMoves) ? Decision.CREATE : Decision.REFUSE;
    }

    /** Groups waiting for a refresh (tests). */
    int waiting() {
        return firstAskedNanos.size();
    }
}
