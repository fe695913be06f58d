package io.loomkv.net.node;

import io.loomkv.core.shard.SlotLayout;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Spreads leadership over the stores, so that no process does all the leader work: the numbers of
 * groups the stores lead are kept within one of each other. A store that leads at least two more
 * groups than another live store hosting one of them hands that group over, to the group's
 * preferred store when it qualifies (its replica stores in id order, the group id picking one
 * round-robin, so each store prefers about 1/n of the groups; the preferred stores also campaign
 * first at start), else to the qualifying store leading the fewest. After bootstrap and after a
 * store restarts (its groups were led elsewhere meanwhile) leadership thus returns to an even
 * spread, while an operator's {@code transfer-leader} that keeps the spread even stays. Each
 * transfer lowers the sum of squares of the counts, so the spread converges.
 *
 * <p>Counts come from this store's replicas' view of their leaders (every store sees every group
 * it hosts), data groups only. At most {@value #MAX_TRANSFERS_PER_ROUND} transfers are asked for per round (a round
 * a second: TiKV's PD limits leader moves to 4 at once, but a store here may host a thousand
 * groups); a leader only hands over after leading for two election timeouts, and only to a
 * replica with the whole log, so a flapping store cannot make leadership ping-pong. A
 * single-group cluster has nothing to spread.
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
        for (Replica replica : replicas) {
            long leader = replica.state().leaderId();
            // Data groups only: the shard controller (group 0) is light work, and counting it
            // would leave its leader's store one data group short of an even spread.
            if (leader != 0 && layout.hasGroup(replica.groupId())) {
                led.merge(leader, 1, Integer::sum);
            }
        }
        int started = 0;
        for (Replica replica : replicas) {
            int mine = led.getOrDefault(storeId, 0);
            if (started >= MAX_TRANSFERS_PER_ROUND || mine < 2) {
                return;
            }
            if (!replica.state().isLeader() || !layout.hasGroup(replica.groupId())) {
                continue;
            }
            long target = target(replica, mine, led, liveness);
            if (target != 0 && replica.handOverLeadership(target)) {
                started++;
                led.merge(storeId, -1, Integer::sum);
                led.merge(target, 1, Integer::sum);
            }
        }
    }

    /** Where to hand {@code replica}'s group, or 0: a live replica store leading at most {@code mine - 2} groups. */
    private long target(Replica replica, int mine, Map<Long, Integer> led, Liveness liveness) {
        long preferred = preferredLeader(layout, replica.groupId());
        long best = 0;
        int bestCount = Integer.MAX_VALUE;
        for (long candidate : replica.voters()) {
            int count = led.getOrDefault(candidate, 0);
            if (candidate == storeId || count + 1 >= mine || !liveness.isLive(candidate)) {
                continue;
            }
            if (candidate == preferred) {
                return candidate;
            }
            if (count < bestCount || count == bestCount && candidate < best) {
                best = candidate;
                bestCount = count;
            }
        }
        return best;
    }

    /** The store that should lead {@code groupId} when the spread allows: it campaigns first at start. */
    static long preferredLeader(SlotLayout layout, long groupId) {
        List<Long> stores = layout.replicas(groupId).stream().sorted().toList();
        return stores.get((int) Math.floorMod(groupId - 1, (long) stores.size()));
    }
}
