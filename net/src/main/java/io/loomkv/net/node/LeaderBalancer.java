package io.loomkv.net.node;

import io.loomkv.core.shard.SlotLayout;
import java.util.Collection;
import java.util.List;

/**
 * Spreads leadership over the stores: every group has a preferred store (its replica stores in id
 * order, the group id picking one round-robin, so each store prefers about 1/n of the groups),
 * and a leader elsewhere hands leadership to it once that store is live and its replica has the
 * whole log. After bootstrap (elections land anywhere) and after a store restarts (its groups were
 * led elsewhere meanwhile) leadership thus returns to an even spread, instead of one process doing
 * all the leader work. At most {@value #MAX_TRANSFERS_PER_ROUND} transfers are asked for per round
 * (a round a second: TiKV's PD limits leader moves to 4 at once, but a store here may host a
 * thousand groups), and a leader only hands over after leading for two election timeouts, so a
 * flapping store cannot make leadership ping-pong.
 *
 * <p>A single-group cluster has nothing to spread: the balancer does nothing there.
 */
final class LeaderBalancer {
    static final int MAX_TRANSFERS_PER_ROUND = 32;

    private final long storeId;
    private final SlotLayout layout;
    private final StoreLiveness liveness;

    LeaderBalancer(long storeId, SlotLayout layout, StoreLiveness liveness) {
        this.storeId = storeId;
        this.layout = layout;
        this.liveness = liveness;
    }

    void run(Collection<Replica> replicas, long nowNanos) {
        if (layout.groups().size() <= 1) {
            return;
        }
        int started = 0;
        for (Replica replica : replicas) {
            if (started >= MAX_TRANSFERS_PER_ROUND) {
                return;
            }
            if (!replica.state().isLeader() || !layout.groups().contains(replica.groupId())) {
                continue;
            }
            long preferred = preferredLeader(layout, replica.groupId());
            if (preferred != storeId && liveness.isLive(preferred, nowNanos) && replica.handOverLeadership(preferred)) {
                started++;
            }
        }
    }

    /** The store that should lead {@code groupId} when it is up. */
    static long preferredLeader(SlotLayout layout, long groupId) {
        List<Long> stores = layout.replicas(groupId).stream().sorted().toList();
        return stores.get((int) Math.floorMod(groupId - 1, (long) stores.size()));
    }
}
