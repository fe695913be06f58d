package io.loomkv.core.shard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The placement rule: fewest replicas first, then fewest reported bytes, then the lower store id;
 * live stores only, never two on one store.
 */
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
    void reportedSizesBreakTiesBetweenEqualCountsOnly() {
        // Every store of `balanced` holds two replicas; store 1 reports the most bytes, store 3 the fewest.
        ReplicaPlacement.Sizes sizes = new ReplicaPlacement.Sizes(Map.of(1L, 900L, 2L, 500L, 3L, 100L, 4L, 500L), Map.of());
        assertEquals(List.of(2L, 3L, 4L), ReplicaPlacement.forNewGroup(balanced, List.of(1L, 2L, 3L, 4L), 3, sizes));
        assertEquals(List.of(3L), ReplicaPlacement.forNewGroup(balanced, List.of(1L, 2L, 3L, 4L), 1, sizes));
        // A store with fewer replicas goes first however large it is.
        SlotLayout layout = SlotLayout.evenSplit(1, 3, List.of(1L, 2L, 3L, 4L, 5L), 2); // {1,2} {2,3} {3,4}
        ReplicaPlacement.Sizes fifthIsLarge = new ReplicaPlacement.Sizes(Map.of(5L, 1L << 40), Map.of());
        assertEquals(List.of(1L, 4L, 5L), ReplicaPlacement.forNewGroup(layout, List.of(1L, 2L, 3L, 4L, 5L), 3, fifthIsLarge));
        // Draining counts the bytes of the groups planned before. Store 1 hosts groups 1 {1,2,3},
        // 3 {3,4,1} and 4 {4,1,2}; stores 5 and 6 are empty, 5 reported fewer bytes. Group 1 goes
        // to 5 (a tie, fewer bytes), group 3 to 6 (fewer replicas), and group 4 to 6 again: with
        // group 1's 700 bytes, store 5 now holds more (800 against 350).
        SlotLayout threeReplicas = SlotLayout.evenSplit(1, 4, List.of(1L, 2L, 3L, 4L), 3);
        List<Long> live = List.of(1L, 2L, 3L, 4L, 5L, 6L);
        ReplicaPlacement.Sizes draining = new ReplicaPlacement.Sizes(Map.of(5L, 100L, 6L, 300L), Map.of(1L, 700L, 3L, 50L));
        assertEquals(List.of(new ReplicaPlacement.Move(1, 1, 5), new ReplicaPlacement.Move(3, 1, 6),
                new ReplicaPlacement.Move(4, 1, 6)), ReplicaPlacement.drain(threeReplicas, live, 1, draining));
        assertEquals(List.of(new ReplicaPlacement.Move(1, 1, 5), new ReplicaPlacement.Move(3, 1, 6),
                new ReplicaPlacement.Move(4, 1, 5)), ReplicaPlacement.drain(threeReplicas, live, 1, ReplicaPlacement.Sizes.NONE));
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

    @Test
    void drainingAStoreMovesTheControllersReplicaLast() {
        SlotLayout listed = balanced.withController(List.of(1L, 2L, 3L), 0);
        List<Long> live = List.of(1L, 2L, 3L, 4L, 5L, 6L);
        assertEquals(List.of(new ReplicaPlacement.Move(1, 1, 5), new ReplicaPlacement.Move(4, 1, 6),
                new ReplicaPlacement.Move(0, 1, 5)), ReplicaPlacement.drain(listed, live, 1));
        assertEquals(List.of(), ReplicaPlacement.drain(listed, live, 6));
        // A layout that does not list the controller's stores plans data groups only.
        assertEquals(2, ReplicaPlacement.drain(balanced, live, 1).size());
        // The controller's replica needs a store outside its list like any group, and nothing moves without one.
        SlotLayout crowded = balanced.withController(List.of(1L, 2L, 3L, 4L), 0);
        IllegalArgumentException full = assertThrows(IllegalArgumentException.class,
                () -> ReplicaPlacement.drain(crowded, List.of(1L, 2L, 3L, 4L), 1));
        assertTrue(full.getMessage().contains("no live store can take group 0's replica from store 1"), full.getMessage());
    }
}
