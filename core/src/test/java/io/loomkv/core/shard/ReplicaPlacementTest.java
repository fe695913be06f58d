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
    void replacementIsTheLeastLoadedLiveStoreNotHostingTheGroup() {
        SlotLayout layout = SlotLayout.evenSplit(1, 3, List.of(1L, 2L, 3L, 4L, 5L), 2); // {1,2} {2,3} {3,4}
        assertEquals(5L, ReplicaPlacement.replacement(layout, List.of(1L, 2L, 3L, 4L, 5L), 1, 1));
        assertEquals(4L, ReplicaPlacement.replacement(layout, List.of(1L, 2L, 3L, 4L), 1, 2)); // 1 hosts it already
        assertEquals(1L, ReplicaPlacement.replacement(layout, List.of(1L, 2L, 3L, 4L), 3, 4));
        IllegalArgumentException full = assertThrows(IllegalArgumentException.class,
                () -> ReplicaPlacement.replacement(layout, List.of(1L, 2L), 1, 1));
        assertTrue(full.getMessage().contains("no live store can take group 1's replica from store 1"), full.getMessage());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> ReplicaPlacement.replacement(layout, List.of(1L, 2L, 3L), 9, 1));
        assertTrue(unknown.getMessage().contains("group 9 is not in configuration 1"), unknown.getMessage());
        IllegalArgumentException notHost = assertThrows(IllegalArgumentException.class,
                () -> ReplicaPlacement.replacement(layout, List.of(1L, 2L, 3L), 1, 3));
        assertTrue(notHost.getMessage().contains("store 3 hosts no replica of group 1"), notHost.getMessage());
    }
}
