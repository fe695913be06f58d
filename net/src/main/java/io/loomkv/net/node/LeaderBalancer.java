package io.loomkv.net.node;

import io.loomkv.core.shard.SlotLayout;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Spreads leadership over the stores, so that no process does all the leader work. Each group
 * has a preferred store (its replica stores in id order, the group id picking one round-robin, so
 * each store prefers about 1/n of the groups). A store that leads more than its fair share
 * (the groups with a leader, divided over the live stores, rounded up) hands groups to their
 * preferred store when that store is live, leads less than its share, and has the whole log.
 * After bootstrap (elections land anywhere) and after a store restarts (its groups were led
 * elsewhere meanwhile) leadership thus returns to an even spread; an operator's
 * {@code transfer-leader} that keeps every store within its share is left alone.
 *
 * <p>At most {@value #MAX_TRANSFERS_PER_ROUND} transfers are asked for per round (a round a
 * second: TiKV's PD limits leader moves to 4 at once, but a store here may host a thousand
 * groups), and a leader only hands over after leading for two election timeouts, so a flapping
 * store cannot make leadership ping-pong. A single-group cluster has nothing to spread.
 */
final class LeaderBalancer {
    static final int MAX_TRANSFERS_PER_ROUND = 32;

    /** What the balancer needs of the store. */
    interface Liveness {
        boolean isLive(long storeId);
    }

    private final long storeId;
    private final SlotLayout layout;

    LeaderBalancer(long storeId, SlotLayout layout) {
        this.storeId = storeId;
        this.layout = layout;
    }

    void run(Collection<Replica> replicas, Liveness liveness) {
        if (layout.groups().size() <= 1) {
            return;
        }
        Map<Long, Integer> led = new HashMap<>();
        int withLeader = 0;
        for (Replica replica : replicas) {
            long leader = replica.state().leaderId();
            if (leader != 0) {
                led.merge(leader, 1, Integer::sum);
                withLeader++;
            }
        }
        long liveStores = layout.groups().stream().flatMap(g -> layout.replicas(g).stream()).distinct()
                .filter(id -> id == storeId || liveness.isLive(id)).count();
        int fairShare = (int) Math.ceilDiv(withLeader, Math.max(1, liveStores));
        int mine = led.getOrDefault(storeId, 0);
        int started = 0;
        for (Replica replica : replicas) {
            if (mine <= fairShare || started >= MAX_TRANSFERS_PER_ROUND) {
                return;
            }
            if (!replica.state().isLeader() || !layout.groups().contains(replica.groupId())) {
                continue;
            }
            long preferred = preferredLeader(layout, replica.groupId());
            if (preferred == storeId || !liveness.isLive(preferred) || led.getOrDefault(preferred, 0) >= fairShare) {
                continue;
            }
            if (replica.handOverLeadership(preferred)) {
                started++;
                mine--;
                led.merge(preferred, 1, Integer::sum);
            }
        }
    }

    /** The store that should lead {@code groupId} when it is up. */
    static long preferredLeader(SlotLayout layout, long groupId) {
        List<Long> stores = layout.replicas(groupId).stream().sorted().toList();
        return stores.get((int) Math.floorMod(groupId - 1, (long) stores.size()));
    }
}
