package io.loomkv.core.shard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.PrimitiveIterator;
import org.junit.jupiter.api.Test;

class SlotSetTest {

    private static List<Integer> slotsOf(SlotSet set) {
        List<Integer> slots = new ArrayList<>();
        PrimitiveIterator.OfInt it = set.iterator();
        while (it.hasNext()) {
            slots.add(it.nextInt());
        }
        return slots;
    }

    @Test
    void slotRangeIsInclusiveAndValidated() {
        SlotRange range = new SlotRange(10, 12);
        assertEquals(3, range.size());
        assertTrue(range.contains(10));
        assertTrue(range.contains(12));
        assertFalse(range.contains(13));
        assertEquals(16384, SlotRange.all().size());
        assertEquals(1, SlotRange.single(7).size());
        assertEquals("10..12", range.toString());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SlotRange(5, 4)).getMessage()
                .contains("ends before it starts"));
        assertThrows(IllegalArgumentException.class, () -> new SlotRange(-1, 4));
        assertThrows(IllegalArgumentException.class, () -> new SlotRange(0, 16384));
    }

    @Test
    void allHoldsEverySlotInOneRange() {
        SlotSet all = SlotSet.all();
        assertEquals(16384, all.size());
        assertEquals(List.of(SlotRange.all()), all.ranges());
        assertTrue(all.contains(0));
        assertTrue(all.contains(16383));
        List<Integer> slots = slotsOf(all);
        assertEquals(16384, slots.size());
        assertEquals(16383, slots.get(16383));
    }

    @Test
    void emptyHoldsNothing() {
        SlotSet empty = SlotSet.empty();
        assertTrue(empty.isEmpty());
        assertEquals(0, empty.size());
        assertFalse(empty.contains(0));
        assertFalse(empty.iterator().hasNext());
        PrimitiveIterator.OfInt single = SlotSet.of(SlotRange.single(3)).iterator();
        assertEquals(3, single.nextInt());
        assertThrows(NoSuchElementException.class, single::nextInt);
        assertEquals(empty, SlotSet.of(List.of()));
    }

    @Test
    void rangesAreSortedAndAdjacentOnesMerged() {
        SlotSet set = SlotSet.of(new SlotRange(20, 29), new SlotRange(0, 4), new SlotRange(5, 9), new SlotRange(40, 40));
        assertEquals(List.of(new SlotRange(0, 9), new SlotRange(20, 29), new SlotRange(40, 40)), set.ranges());
        assertEquals(21, set.size());
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 40), slotsOf(set));
        assertTrue(set.contains(9));
        assertFalse(set.contains(10));
        assertFalse(set.contains(19));
        assertTrue(set.contains(20));
        assertFalse(set.contains(41));
        assertEquals(SlotSet.of(new SlotRange(0, 9), new SlotRange(20, 29), new SlotRange(40, 40)), set);
        assertNotEquals(SlotSet.all(), set);
    }

    @Test
    void overlappingRangesAndRepeatedSlotsAreRefused() {
        IllegalArgumentException overlap = assertThrows(IllegalArgumentException.class,
                () -> SlotSet.of(new SlotRange(0, 10), new SlotRange(10, 20)));
        assertTrue(overlap.getMessage().contains("overlap"), overlap.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SlotSet.ofSlots(3, 5, 3));
    }

    @Test
    void ofSlotsTakesAnyOrder() {
        SlotSet set = SlotSet.ofSlots(16383, 7, 0, 8);
        assertEquals(List.of(new SlotRange(0, 0), new SlotRange(7, 8), new SlotRange(16383, 16383)), set.ranges());
        assertEquals(List.of(0, 7, 8, 16383), slotsOf(set));
        assertEquals("[0, 7..8, 16383]", set.toString());
    }

    @Test
    void thousandSmallRangesAnswerLikeAPlainBitmap() {
        boolean[] expected = new boolean[Slots.SLOT_COUNT];
        List<SlotRange> ranges = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            int first = i * 16 + (i % 7);
            int last = first + i % 3;
            ranges.add(new SlotRange(first, last));
            for (int slot = first; slot <= last; slot++) {
                expected[slot] = true;
            }
        }
        SlotSet set = SlotSet.of(ranges.reversed());
        int size = 0;
        List<Integer> expectedSlots = new ArrayList<>();
        for (int slot = 0; slot < Slots.SLOT_COUNT; slot++) {
            assertEquals(expected[slot], set.contains(slot), "slot " + slot);
            if (expected[slot]) {
                size++;
                expectedSlots.add(slot);
            }
        }
        assertEquals(size, set.size());
        assertEquals(1000, set.ranges().size());
        assertEquals(expectedSlots, slotsOf(set));
        assertTrue(set.toString().contains("1000 ranges"), set.toString());
    }
}
