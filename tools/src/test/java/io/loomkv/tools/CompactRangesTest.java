package io.loomkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.loomkv.core.shard.SlotRange;
import io.loomkv.core.shard.SlotSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class CompactRangesTest {
    @Test
    void slotsAreWrittenAsRanges() {
        assertEquals("0-16383", CompactRanges.slots(SlotSet.all()));
        assertEquals("0-99,4096-8191", CompactRanges.slots(SlotSet.of(new SlotRange(4096, 8191), new SlotRange(0, 99))));
        assertEquals("5,9-10", CompactRanges.slots(SlotSet.ofSlots(10, 5, 9)));
        assertEquals("none", CompactRanges.slots(SlotSet.empty()));
    }

    @Test
    void idsAreSortedWithRunsCollapsed() {
        assertEquals("1-4,7", CompactRanges.ids(List.of(4L, 1L, 2L, 3L, 7L)));
        assertEquals("3", CompactRanges.ids(List.of(3L, 3L)));
        assertEquals("1,3", CompactRanges.ids(List.of(3L, 1L)));
        assertEquals("none", CompactRanges.ids(List.of()));
    }
}
