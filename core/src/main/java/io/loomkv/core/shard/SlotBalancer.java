package io.loomkv.core.shard;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Spreads the 16384 slots evenly over a new set of groups while moving as few slots as possible:
 * the shard controller's rule after a Join or a Leave.
 *
 * <p><b>The rule.</b> With G groups, every group's target is {@code floor(16384 / G)} slots, and
 * {@code 16384 mod G} of them get one more: those that own the most slots now (ties: the lower
 * group id), so that the extra slots stay where they are. A group over its target gives up its
 * excess (its highest slots, so what it keeps stays contiguous at the low end); the slots of
 * groups that left join that pool; groups under their target then take what they lack from the
 * pool in slot order, lowest group id first, so each takes one run of the pool.
 *
 * <p><b>Why it is minimal.</b> Any assignment meeting the targets must move, out of each remaining
 * group, at least its count minus its target (when positive), and every slot of a leaving group;
 * the rule moves exactly that, never a slot of a group at or under its target. Among the choices
 * of which groups get the extra slot, giving it to the largest owners minimises the sum of the
 * excesses: moving the extra from a group with c1 slots to one with c2 >= c1 never increases it
 * (max(0, c1 - t) + max(0, c2 - t - 1) <= max(0, c1 - t - 1) + max(0, c2 - t) for c2 >= c1).
 * So a Join moves only slots to the new groups, and a Leave only the leaving groups' slots, as
 * long as the other groups were balanced. {@code SlotBalancerTest} checks the count against a
 * brute-force minimum. Consistent hashing with virtual nodes (the design notes' choice) gets the
 * same "only to or from the changed groups" property but only in expectation, with counts that
 * differ by a few percent; this rule is exact, deterministic and needs no ring.
 */
public final class SlotBalancer {

    private SlotBalancer() {}

    /**
     * The slot owners after balancing {@code owners} (the current owner of every slot, indexed by
     * slot) over {@code groups} (ascending, distinct, non-empty, at most one per slot). Slots owned
     * by a group not in {@code groups} (one that leaves) are always moved.
     */
    public static long[] balance(long[] owners, long[] groups) {
        if (owners.length != Slots.SLOT_COUNT) {
            throw new IllegalArgumentException("expected an owner for each of the " + Slots.SLOT_COUNT + " slots, got "
                    + owners.length);
        }
        if (groups.length == 0 || groups.length > Slots.SLOT_COUNT) {
            throw new IllegalArgumentException("slots can be spread over 1.." + Slots.SLOT_COUNT + " groups, not "
                    + groups.length);
        }
        for (int i = 1; i < groups.length; i++) {
            if (groups[i] <= groups[i - 1]) {
                throw new IllegalArgumentException("groups must be ascending and distinct: " + Arrays.toString(groups));
            }
        }
        Map<Long, Integer> targets = targets(owners, groups);
        long[] result = owners.clone();
        Map<Long, Integer> kept = new TreeMap<>();
        for (long group : groups) {
            kept.put(group, 0);
        }
        // Walk the slots from the top: a group keeps its lowest slots up to its target.
        int[] pool = new int[Slots.SLOT_COUNT];
        int poolSize = 0;
        Map<Long, Integer> owned = counts(owners, groups);
        for (int slot = Slots.SLOT_COUNT - 1; slot >= 0; slot--) {
            long owner = owners[slot];
            Integer count = owned.get(owner);
            if (count == null) {
                pool[poolSize++] = slot; // a leaving group's slot
            } else if (count > targets.get(owner)) {
                owned.put(owner, count - 1);
                pool[poolSize++] = slot;
            } else {
                kept.merge(owner, 1, Integer::sum);
            }
        }
        Arrays.sort(pool, 0, poolSize);
        int next = 0;
        for (long group : groups) {
            int lacking = targets.get(group) - kept.get(group);
            for (int i = 0; i < lacking; i++) {
                result[pool[next++]] = group;
            }
        }
        if (next != poolSize) {
            throw new IllegalStateException("balancing left " + (poolSize - next) + " slots without a group");
        }
        return result;
    }

    /** How many slots differ between two owner tables. */
    public static int moves(long[] before, long[] after) {
        int moves = 0;
        for (int slot = 0; slot < Slots.SLOT_COUNT; slot++) {
            if (before[slot] != after[slot]) {
                moves++;
            }
        }
        return moves;
    }

    /** The owner table of {@code layout}, indexed by slot. */
    public static long[] owners(SlotLayout layout) {
        long[] owners = new long[Slots.SLOT_COUNT];
        for (int slot = 0; slot < Slots.SLOT_COUNT; slot++) {
            owners[slot] = layout.groupOf(slot);
        }
        return owners;
    }

    /** An owner table as layout rows: adjacent slots of one group merged, ascending. */
    public static List<SlotAssignment> assignments(long[] owners) {
        List<SlotAssignment> rows = new ArrayList<>();
        int first = 0;
        for (int slot = 1; slot <= Slots.SLOT_COUNT; slot++) {
            if (slot == Slots.SLOT_COUNT || owners[slot] != owners[first]) {
                rows.add(SlotAssignment.of(first, slot - 1, owners[first]));
                first = slot;
            }
        }
        return rows;
    }

    private static Map<Long, Integer> targets(long[] owners, long[] groups) {
        int base = Slots.SLOT_COUNT / groups.length;
        int extra = Slots.SLOT_COUNT % groups.length;
        Map<Long, Integer> counts = counts(owners, groups);
        List<Long> byOwned = new ArrayList<>(counts.keySet());
        byOwned.sort(Comparator.comparing((Long g) -> counts.get(g)).reversed().thenComparing(Comparator.naturalOrder()));
        Map<Long, Integer> targets = new TreeMap<>();
        for (int i = 0; i < byOwned.size(); i++) {
            targets.put(byOwned.get(i), base + (i < extra ? 1 : 0));
        }
        return targets;
    }

    /** Slots owned by each of {@code groups} (0 for a new group). */
    private static Map<Long, Integer> counts(long[] owners, long[] groups) {
        Map<Long, Integer> counts = new TreeMap<>();
        for (long group : groups) {
            counts.put(group, 0);
        }
        for (long owner : owners) {
            counts.computeIfPresent(owner, (g, c) -> c + 1);
        }
        return counts;
    }
}
