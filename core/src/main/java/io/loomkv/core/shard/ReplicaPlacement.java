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
 * with the fewest; among stores with as many, the one holding the fewest bytes as the stores
 * reported them ({@link Sizes}), then the lower store id. Pure and deterministic: the same
 * configuration, live stores and sizes always give the same stores, so the caller (the CLI, which
 * knows which stores report to the controller) can say exactly why it chose them, and the
 * controller's state machine only has to check the result (distinct stores, one move at a time).
 *
 * <p>The configuration, not the stores' reports, gives the count: a report is up to one period
 * old, while the configuration already counts a group joined or a replica moved a moment ago, so
 * two placements one after the other do not pick the same stores. The reported sizes only break
 * ties, so a report that lags cannot undo that spread; they keep a store whose groups grew large
 * from taking the next replica while an emptier store with as many replicas could.
 */
public final class ReplicaPlacement {
    /** Stores one group may be placed on (the controller refuses more). */
    public static final int MAX_REPLICAS = 7;

    private ReplicaPlacement() {
    }

    /**
     * Reported data bytes per store and per group (a group's largest replica); a store or group
     * missing counts as empty.
     */
    public record Sizes(Map<Long, Long> byStore, Map<Long, Long> byGroup) {
        /** No sizes known: placement by replica count and store id alone. */
        public static final Sizes NONE = new Sizes(Map.of(), Map.of());

        public Sizes {
            byStore = Map.copyOf(byStore);
            byGroup = Map.copyOf(byGroup);
        }

        long store(long id) {
            return byStore.getOrDefault(id, 0L);
        }

        long group(long id) {
            return byGroup.getOrDefault(id, 0L);
        }
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
        return forNewGroup(layout, liveStores, replicas, Sizes.NONE);
    }

    /** As {@link #forNewGroup(SlotLayout, Collection, int)}, ties between equal counts to the store holding fewer bytes. */
    public static List<Long> forNewGroup(SlotLayout layout, Collection<Long> liveStores, int replicas, Sizes sizes) {
        if (replicas < 1 || replicas > MAX_REPLICAS) {
            throw new IllegalArgumentException("a group has 1.." + MAX_REPLICAS + " replicas, not " + replicas);
        }
        TreeSet<Long> live = new TreeSet<>(liveStores);
        if (live.size() < replicas) {
            throw new IllegalArgumentException(replicas + " replicas need " + replicas + " live stores on distinct stores, but only "
                    + live.size() + " are live " + live);
        }
        List<Long> chosen = new ArrayList<>(byLoad(loads(layout, live), sizes.byStore()).subList(0, replicas));
        chosen.sort(Comparator.naturalOrder());
        return chosen;
    }

    /** One replica move: {@code group}'s replica on {@code from} goes to {@code to}. */
    public record Move(long group, long from, long to) {
    }

    /**
     * The moves that take every replica off {@code store} (group 0's too, when the configuration
     * lists the controller's stores), one group at a time in group order (the controller last), each
     * to the least loaded live store that does not host the group yet, counting the moves planned
     * before it. Checked whole before anything is asked for, so a store is never half drained
     * because of a group no store could take.
     *
     * @throws IllegalArgumentException naming the first group no live store other than {@code store} can take
     */
    public static List<Move> drain(SlotLayout layout, Collection<Long> liveStores, long store) {
        return drain(layout, liveStores, store, Sizes.NONE);
    }

    /**
     * As {@link #drain(SlotLayout, Collection, long)}, ties between equal counts to the store holding
     * fewer bytes, counting the bytes of the groups planned to move there before.
     */
    public static List<Move> drain(SlotLayout layout, Collection<Long> liveStores, long store, Sizes sizes) {
        TreeSet<Long> live = new TreeSet<>(liveStores);
        live.remove(store);
        Map<Long, Integer> loads = loads(layout, live);
        Map<Long, Long> bytes = new TreeMap<>();
        live.forEach(id -> bytes.put(id, sizes.store(id)));
        List<Move> moves = new ArrayList<>();
        // The controller's replica goes last: every move before it is a command to the controller,
        // which a move of its own would briefly hold up.
        List<Long> groups = new ArrayList<>(layout.groups());
        if (!layout.controllerStores().isEmpty()) {
            groups.add(GroupIds.CONTROLLER_GROUP_ID);
        }
        for (long group : groups) {
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
            long to = byLoad(candidates, bytes).get(0);
            loads.merge(to, 1, Integer::sum);
            bytes.merge(to, sizes.group(group), Long::sum);
            moves.add(new Move(group, store, to));
        }
        return moves;
    }

    /** Store ids, fewest replicas first, then fewest bytes, then the lower id. */
    private static List<Long> byLoad(Map<Long, Integer> loads, Map<Long, Long> bytes) {
        List<Long> stores = new ArrayList<>(loads.keySet());
        stores.sort(Comparator.<Long>comparingInt(loads::get).thenComparingLong(id -> bytes.getOrDefault(id, 0L))
                .thenComparing(Comparator.naturalOrder()));
        return stores;
    }
}
