package io.loomkv.core.shard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SlotBalancerTest {

    @Test
    void balancedTablesMoveOnlyWhatTheRuleNeedsAgainstABruteForceMinimum() {
        for (long seed = 1; seed <= 300; seed++) {
            SplittableRandom random = new SplittableRandom(seed);
            // A random table over up to 6 current owners, in random runs, so counts are uneven.
            int owners = 1 + random.nextInt(6);
            long[] table = new long[Slots.SLOT_COUNT];
            int slot = 0;
            while (slot < Slots.SLOT_COUNT) {
                int run = 1 + random.nextInt(3_000);
                long owner = 1 + random.nextInt(owners);
                for (int i = 0; i < run && slot < Slots.SLOT_COUNT; i++) {
                    table[slot++] = owner;
                }
            }
            // The new group set: some of the owners stay, some new groups come.
            long[] groups = java.util.stream.LongStream.rangeClosed(1, owners + 3)
                    .filter(g -> random.nextInt(3) != 0).toArray();
            if (groups.length == 0) {
                groups = new long[] {owners + 1L};
            }
            long[] after = SlotBalancer.balance(table, groups);
            String context = "seed " + seed + ", groups " + Arrays.toString(groups);
            assertBalanced(after, groups, context);
            assertEquals(bruteForceMinimumMoves(table, groups), SlotBalancer.moves(table, after), context);
        }
    }

    @Test
    void aJoinMovesSlotsOnlyToTheNewGroupAndALeaveOnlyTheLeavingGroupsSlots() {
        long[] groups = {1, 2, 3};
        long[] table = SlotBalancer.owners(SlotLayout.evenSplit(1, 3, java.util.List.of(1L), 1));
        long[] joined = SlotBalancer.balance(table, new long[] {1, 2, 3, 4});
        for (int slot = 0; slot < Slots.SLOT_COUNT; slot++) {
            if (joined[slot] != table[slot]) {
                assertEquals(4, joined[slot], "slot " + slot + " moved to an old group");
            }
        }
        assertEquals(4096, SlotBalancer.moves(table, joined));
        long[] left = SlotBalancer.balance(joined, new long[] {1, 3, 4});
        for (int slot = 0; slot < Slots.SLOT_COUNT; slot++) {
            if (left[slot] != joined[slot]) {
                assertEquals(2, joined[slot], "slot " + slot + " of a staying group moved");
            }
        }
        assertEquals(4096, SlotBalancer.moves(joined, left));
        assertBalanced(left, new long[] {1, 3, 4}, "after the leave");
        assertEquals(3, groups.length);
    }

    @Test
    void balancingIsDeterministicAndIdempotent() {
        long[] table = SlotBalancer.owners(SlotLayout.evenSplit(1, 5, java.util.List.of(1L), 1));
        long[] groups = {2, 3, 7, 9};
        long[] once = SlotBalancer.balance(table, groups);
        assertTrue(Arrays.equals(once, SlotBalancer.balance(table.clone(), groups.clone())));
        assertEquals(0, SlotBalancer.moves(once, SlotBalancer.balance(once, groups)));
    }

    @Test
    void refusesBadInput() {
        long[] table = new long[Slots.SLOT_COUNT];
        assertThrows(IllegalArgumentException.class, () -> SlotBalancer.balance(table, new long[0]));
        assertThrows(IllegalArgumentException.class, () -> SlotBalancer.balance(table, new long[] {2, 1}));
        assertThrows(IllegalArgumentException.class, () -> SlotBalancer.balance(new long[5], new long[] {1}));
    }

    private static void assertBalanced(long[] table, long[] groups, String context) {
        Map<Long, Integer> counts = new HashMap<>();
        for (long g : groups) {
            counts.put(g, 0);
        }
        for (long owner : table) {
            assertTrue(counts.containsKey(owner), context + ": a slot is owned by " + owner);
            counts.merge(owner, 1, Integer::sum);
        }
        int min = counts.values().stream().mapToInt(Integer::intValue).min().orElseThrow();
        int max = counts.values().stream().mapToInt(Integer::intValue).max().orElseThrow();
        assertTrue(max - min <= 1, context + ": counts " + counts);
    }

    /** The fewest moves of any balanced assignment: every subset of groups taking the extra slot, tried. */
    private static int bruteForceMinimumMoves(long[] table, long[] groups) {
        int base = Slots.SLOT_COUNT / groups.length;
        int extra = Slots.SLOT_COUNT % groups.length;
        Map<Long, Integer> counts = new HashMap<>();
        for (long g : groups) {
            counts.put(g, 0);
        }
        int leaving = 0;
        for (long owner : table) {
            if (counts.containsKey(owner)) {
                counts.merge(owner, 1, Integer::sum);
            } else {
                leaving++;
            }
        }
        int best = Integer.MAX_VALUE;
        for (int mask = 0; mask < (1 << groups.length); mask++) {
            if (Integer.bitCount(mask) != extra) {
                continue;
            }
            int moves = leaving;
            for (int i = 0; i < groups.length; i++) {
                int target = base + ((mask >> i) & 1);
                moves += Math.max(0, counts.get(groups[i]) - target);
            }
            best = Math.min(best, moves);
        }
        return best;
    }
}
