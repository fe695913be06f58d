package io.loomkv.net.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.loomkv.core.shard.GroupIds;
import io.loomkv.core.shard.ReplicaMovePlanner;
import io.loomkv.core.shard.SlotAssignment;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.SlotRange;
import io.loomkv.core.shard.Slots;
import io.loomkv.net.node.ReplicaCreationGate.Decision;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A store whose layout lags the configuration that moved a group to it must not create that
 * group's replica outside the limit on moves coming in (the race StoreReplicaMoveTest once lost:
 * a third replica created 12 ms before the store learned the configuration that moved it), made
 * deterministic: the times are given, not read.
 */
class ReplicaCreationGateTest {
    private static final long STORE = 4;
    private static final int HALF = Slots.SLOT_COUNT / 2;
    private static final List<SlotAssignment> TWO_GROUPS = List.of(new SlotAssignment(new SlotRange(0, HALF - 1), 1),
            new SlotAssignment(new SlotRange(HALF, Slots.SLOT_COUNT - 1), 2));
    /** Configuration 3: group 1 on stores 1-3, never moved (so unmanaged). */
    private static final SlotLayout LAGGING = SlotLayout.of(3, TWO_GROUPS,
            Map.of(1L, List.of(1L, 2L, 3L), 2L, List.of(1L, 2L, 3L)));
    /** Configuration 4: the controller moved group 1's replica from store 3 to store 4. */
    private static final SlotLayout MOVED = SlotLayout.of(4, TWO_GROUPS,
            Map.of(1L, List.of(1L, 2L, 4L), 2L, List.of(1L, 2L, 3L)), Map.of(1L, 1L));

    private final ReplicaCreationGate gate = new ReplicaCreationGate(64);

    @Test
    void aGroupMovedHereByAConfigurationTheStoreHasNotSeenWaitsAndIsThenCountedAgainstTheLimit() {
        int full = ReplicaMovePlanner.MAX_INCOMING_MOVES;
        // The leader's first message at t=100; the layout was last refreshed at t=50: it may lag.
        assertEquals(Decision.WAIT, gate.decide(LAGGING, 1, STORE, full, 100, 50),
                "unplaced and unmanaged by a lagging layout: without the wait it would be created past the limit");
        assertEquals(Decision.WAIT, gate.decide(LAGGING, 1, STORE, full, 150, 90),
                "the leader's retry: only a refresh after its first message counts, and none came yet");
        // Refreshed at t=200, after the first ask at 100: the configuration the leader acted on was
        // committed before its message, so this refresh brought configuration 4.
        assertEquals(Decision.REFUSE, gate.decide(MOVED, 1, STORE, full, 210, 200), "a managed move, and two already coming in");
        assertEquals(Decision.CREATE, gate.decide(MOVED, 1, STORE, full - 1, 220, 200));
        assertEquals(0, gate.waiting());
    }

    @Test
    void aRefreshBeforeTheFirstAskIsNotFreshEnough() {
        assertEquals(Decision.WAIT, gate.decide(LAGGING, 1, STORE, 0, 1_000, 1_000));
        assertEquals(Decision.WAIT, gate.decide(LAGGING, 1, STORE, 0, 1_500, 999));
        assertEquals(1, gate.waiting());
    }

    @Test
    void aMemberAddedByHandIsCreatedAfterOneRefresh() {
        // The operator added store 4 to group 1 by hand: no configuration moves it, so it stays unplaced and unmanaged.
        assertEquals(Decision.WAIT, gate.decide(LAGGING, 1, STORE, ReplicaMovePlanner.MAX_INCOMING_MOVES, 100, 0));
        assertEquals(Decision.CREATE, gate.decide(LAGGING, 1, STORE, ReplicaMovePlanner.MAX_INCOMING_MOVES, 300, 250),
                "an unmanaged group is not counted against the limit");
        assertEquals(0, gate.waiting());
    }

    @Test
    void aGroupTheLayoutPlacesHereOrDoesNotKnowIsDecidedAtOnce() {
        assertEquals(Decision.CREATE, gate.decide(MOVED, 1, STORE, 0, 100, 0), "placed here: no wait for a refresh");
        assertEquals(Decision.REFUSE, gate.decide(MOVED, 1, 3, 0, 100, 0), "a stale message: group 1 moved off store 3");
        assertEquals(Decision.REFUSE, gate.decide(MOVED, 9, STORE, 0, 100, 0), "not in the configuration (removed)");
        assertEquals(Decision.CREATE, gate.decide(MOVED, GroupIds.CONTROLLER_GROUP_ID, STORE, 0, 100, 0),
                "the controller group is not judged by the data layout's placement");
        assertEquals(0, gate.waiting());
    }

    @Test
    void theGroupsRememberedAreBounded() {
        ReplicaCreationGate small = new ReplicaCreationGate(1);
        SlotLayout many = SlotLayout.of(3, List.of(new SlotAssignment(new SlotRange(0, Slots.SLOT_COUNT - 1), 1)),
                Map.of(1L, List.of(1L, 2L, 3L), 2L, List.of(1L, 2L, 3L), 3L, List.of(1L, 2L, 3L)));
        for (long group = 1; group <= 3; group++) {
            assertEquals(Decision.WAIT, small.decide(many, group, STORE, 0, 100, 0));
        }
        assertEquals(true, small.waiting() <= 2, "cleared once over the bound, got " + small.waiting());
    }
}
