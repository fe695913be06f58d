package io.loomkv.core.shard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The placement rule: fewest replicas first, ties to the lower store id, live stores only, never two on one store. */
class ReplicaPlacementTest {

    /** Groups 1..4 with 2 replicas each on stores 1..4 (evenSplit: {1,2} {2,3} {3,4} {4,1}): two replicas per store. */
    private final SlotLayout balanced = SlotLayout.evenSplit(1, 4, List.of(1L, 2L, 3L, 4L), 2);

    @Test
    void newGroupGoesToTheStoresWithFewestReplicasTiesToLowerIds() {
        SlotLayout layout = SlotLayout.evenSplit(1, 3, List.of(1L, 2L, 3L, 4L, 5L), 2); // {1,2} {2,3} {3,4}
        assertEquals(Map.of(1L, 1, 2L, 2, 3L, 2, 4L, 1, 5L, 0), ReplicaPlacement.loads(layout, List.of(1L, 2L, 3L, 4L, 5L)));
        assertEquals(List.of(1L, 4L, 5L), ReplicaPlacement.forNewGroup(layout, List.of(5L, 4L, 3L, 2L, 1L), 3));
        assertEquals(List.of(1L, 2L, 4L, 5L), ReplicaPlacement.forNewGroup(layout, List.of(1L, 2L, 3L, 4L, 5L), 4));
        // Equal loads: the lower ids.
        assertEquals(List.of(1L, 2L, 3L), ReplicaPlacement.forNewGroup(balanced, List.of(4L, 3L, 2L, 1L), 3));
        // A store that is not live is never chosen, however idle.
        assertEquals(List.of(1L, 2L, 4L), ReplicaPlacement.forNewGroup(layout, List.of(1L, 2L, 3L, 4L), 3));
    }

    @Test
    void tooFewLiveStoresOrABadCountIsRefused() {
        IllegalArgumentException few = assertThrows(IllegalArgumentException.class,
                () -> ReplicaPlacement.forNewGroup(balanced, List.of(1L, 2L), 3));
        assertTrue(few.getMessage().contains("only 2 are live [1, 2]"), few.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ReplicaPlacement.forNewGroup(balanced, List.of(1L, 2L, 3L), 0));
        assertThrows(IllegalArgumentException.class, () -> ReplicaPlacement.forNewGroup(balanced, List.of(1L, 2L, 3L), 8));
    }

    @Test
    void drainingAStoreSpreadsItsReplicasCountingEarlierMoves() {
        // Stores 1..4 with groups {1,2} {2,3} {3,4} {4,1}; store 5 is new and empty, store 6 too.
        List<Long> live = List.of(1L, 2L, 3L, 4L, 5L, 6L);
        assertEquals(List.of(new ReplicaPlacement.Move(1, 1, 5), new ReplicaPlacement.Move(4, 1, 6)),
                ReplicaPlacement.drain(balanced, live, 1));
        assertEquals(List.of(new ReplicaPlacement.Move(1, 2, 5), new ReplicaPlacement.Move(2, 2, 6)),
                ReplicaPlacement.drain(balanced, live, 2));
        assertEquals(List.of(), ReplicaPlacement.drain(balanced, live, 6));
        // Without a store that hosts neither replica's partner, nothing is planned at all.
        SlotLayout three = SlotLayout.evenSplit(1, 2, List.of(1L, 2L, 3L), 3);
        IllegalArgumentException full = assertThrows(IllegalArgumentException.class,
                () -> ReplicaPlacement.drain(three, List.of(1L, 2L, 3L), 3));
        assertTrue(full.getMessage().contains("no live store can take group 1's replica from store 3"), full.getMessage());
    }
}
