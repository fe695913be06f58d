package io.loomkv.core.shard;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Where replicas go (docs/shard-controller.md, "Placement of replicas"): a store's load is the
 * number of data groups a configuration places a replica on it, and a choice takes the live stores
 * with the fewest, ties to the lower store id. Pure and deterministic: the same configuration and
 * the same set of live stores always give the same stores, so the caller (the CLI, which knows
 * which stores report to the controller) can say exactly why it chose them, and the controller's
 * state machine only has to check the result (distinct stores, one move at a time).
 *
 * <p>The configuration, not the stores' reports, gives the load: a report is up to one period old,
 * while the configuration already counts a group joined or a replica moved a moment ago, so two
 * placements one after the other do not pick the same stores.
 */
public final class ReplicaPlacement {
    /** Stores one group may be placed on (the controller refuses more). */
    public static final int MAX_REPLICAS = 7;

    private ReplicaPlacement() {
    }

    /** The replicas of data groups each of {@code stores} holds under {@code layout} (0 for a store it places nothing on). */
    public static Map<Long, Integer> loads(SlotLayout layout, Collection<Long> stores) {
        Map<Long, Integer> loads = new TreeMap<>();
        for (long store : stores) {
            loads.put(store, 0);
        }
        for (long group : layout.groups()) {
            for (long store : layout.replicas(group)) {
                loads.computeIfPresent(store, (id, count) -> count + 1);
            }
        }
        return loads;
    }

    /**
     * The {@code replicas} stores a new group goes on: distinct live stores, fewest replicas first,
     * ties to the lower id; returned in id order.
     *
     * @throws IllegalArgumentException when {@code replicas} is outside 1..7 or fewer stores are live
     */
    public static List<Long> forNewGroup(SlotLayout layout, Collection<Long> liveStores, int replicas) {
        if (replicas < 1 || replicas > MAX_REPLICAS) {
            throw new IllegalArgumentException("a group has 1.." + MAX_REPLICAS + " replicas, not " + replicas);
        }
        TreeSet<Long> live = new TreeSet<>(liveStores);
        if (live.size() < replicas) {
            throw new IllegalArgumentException(replicas + " replicas need " + replicas + " live stores on distinct stores, but only "
                    + live.size() + " are live " + live);
        }
        List<Long> chosen = new ArrayList<>(byLoad(loads(layout, live)).subList(0, replicas));
        chosen.sort(Comparator.naturalOrder());
        return chosen;
    }

    /** One replica move: {@code group}'s replica on {@code from} goes to {@code to}. */
    public record Move(long group, long from, long to) {
    }

    /**
     * The moves that take every replica off {@code store}, one group at a time in group order, each
     * to the least loaded live store that does not host the group yet, counting the moves planned
     * before it. Checked whole before anything is asked for, so a store is never half drained
     * because of a group no store could take.
     *
     * @throws IllegalArgumentException naming the first group no live store other than {@code store} can take
     */
    public static List<Move> drain(SlotLayout layout, Collection<Long> liveStores, long store) {
        TreeSet<Long> live = new TreeSet<>(liveStores);
        live.remove(store);
        Map<Long, Integer> loads = loads(layout, live);
        List<Move> moves = new ArrayList<>();
        for (long group : layout.groups()) {
            List<Long> hosts = layout.replicas(group);
            if (!hosts.contains(store)) {
                continue;
            }
            TreeMap<Long, Integer> candidates = new TreeMap<>(loads);
            candidates.keySet().removeAll(hosts);
            if (candidates.isEmpty()) {
                throw new IllegalArgumentException("no live store can take group " + group + "'s replica from store " + store
                        + ": every other live store " + live + " already hosts the group " + hosts
                        + " (two replicas of a group on one store would fail together); add a store first");
            }
            long to = byLoad(candidates).get(0);
            loads.merge(to, 1, Integer::sum);
            moves.add(new Move(group, store, to));
        }
        return moves;
    }

    /** Store ids, fewest replicas first, ties to the lower id. */
    private static List<Long> byLoad(Map<Long, Integer> loads) {
        List<Long> stores = new ArrayList<>(loads.keySet());
        stores.sort(Comparator.<Long>comparingInt(loads::get).thenComparing(Comparator.naturalOrder()));
        return stores;
    }
}
