package io.loomkv.core.shard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.raft.Role;
import io.loomkv.core.raft.Status;
import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.tracker.ProgressState;
import io.loomkv.core.shard.ReplicaMovePlanner.AddLearner;
import io.loomkv.core.shard.ReplicaMovePlanner.Decision;
import io.loomkv.core.shard.ReplicaMovePlanner.Promote;
import io.loomkv.core.shard.ReplicaMovePlanner.RemoveLearner;
import io.loomkv.core.shard.ReplicaMovePlanner.RemoveVoter;
import io.loomkv.core.shard.ReplicaMovePlanner.Replace;
import io.loomkv.core.shard.ReplicaMovePlanner.TransferLeadership;
import io.loomkv.core.shard.ReplicaMovePlanner.Wait;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The replica move's decisions, one membership at a time: the move of store 3's replica to store 4
 * (leader 1) walks learner, catch-up, joint change; the leader's own replica moves only after it
 * hands over; an abandoned learner goes first.
 */
class ReplicaMovePlannerTest {

    private static final long LAST_INDEX = 500;

    @Test
    void aGroupAtItsConfigurationWithNoLearnerHasNothingToDo() {
        Status status = status(conf(List.of(1L, 2L, 3L), List.of()), Map.of(2L, replicating(LAST_INDEX), 3L, replicating(LAST_INDEX)));
        assertFalse(ReplicaMovePlanner.differs(status.confState(), List.of(3L, 2L, 1L)));
        assertEquals(new Decision(new Wait(), Optional.of(Set.of())), ReplicaMovePlanner.next(1, status, Set.of(1L, 2L, 3L)));
    }

    @Test
    void onlyALeaderThatAppliedTheConfigurationAndDiffersFromItTakesAStep() {
        ConfState applied = conf(List.of(1L, 2L, 3L), List.of());
        List<Long> target = List.of(1L, 2L, 4L);
        assertTrue(ReplicaMovePlanner.needsStep(true, 7, 7, applied, target));
        assertFalse(ReplicaMovePlanner.needsStep(false, 7, 7, applied, target), "a follower");
        assertFalse(ReplicaMovePlanner.needsStep(true, 6, 7, applied, target), "the group has not applied configuration 7");
        assertFalse(ReplicaMovePlanner.needsStep(true, 7, 7, applied, List.of(3L, 1L, 2L)), "already there");
        assertTrue(ReplicaMovePlanner.differs(conf(List.of(1L, 2L, 3L), List.of(4L)), List.of(1L, 2L, 3L)), "a learner left over");
        assertTrue(ReplicaMovePlanner.differs(ConfState.newBuilder().addAllVoters(List.of(1L, 2L, 4L))
                .addAllVotersOutgoing(List.of(1L, 2L, 3L)).build(), target), "still joint");
    }

    @Test
    void aMovedReplicaFirstJoinsAsALearnerWhosePromotionIsHeldForTheJointChange() {
        Status status = status(conf(List.of(1L, 2L, 3L), List.of()), Map.of(2L, replicating(LAST_INDEX), 3L, replicating(LAST_INDEX)));
        assertEquals(new Decision(new AddLearner(4), Optional.of(Set.of(4L))), ReplicaMovePlanner.next(1, status, Set.of(1L, 2L, 4L)));
    }

    @Test
    void aLearnerThatHasNotCaughtUpIsWaitedFor() {
        ConfState conf = conf(List.of(1L, 2L, 3L), List.of(4L));
        Set<Long> target = Set.of(1L, 2L, 4L);
        Decision probing = ReplicaMovePlanner.next(1, status(conf, Map.of(4L, new Status.FollowerProgress(0, 1, ProgressState.PROBE, true))), target);
        assertEquals(new Decision(new Wait(), Optional.of(Set.of(4L))), probing);
        Decision snapshotting = ReplicaMovePlanner.next(1, status(conf, Map.of(4L, new Status.FollowerProgress(0, 1, ProgressState.SNAPSHOT, true))), target);
        assertEquals(new Wait(), snapshotting.step());
        long farBehind = LAST_INDEX - ReplicaMovePlanner.PROMOTE_GAP_ENTRIES - 1;
        assertEquals(new Wait(), ReplicaMovePlanner.next(1, status(conf, Map.of(4L, replicating(farBehind))), target).step());
    }

    @Test
    void aCaughtUpLearnerReplacesTheOldStoreInOneJointChange() {
        ConfState conf = conf(List.of(1L, 2L, 3L), List.of(4L));
        long justCloseEnough = LAST_INDEX - ReplicaMovePlanner.PROMOTE_GAP_ENTRIES;
        Decision decision = ReplicaMovePlanner.next(1, status(conf, Map.of(4L, replicating(justCloseEnough))), Set.of(1L, 2L, 4L));
        assertEquals(new Decision(new Replace(4, 3), Optional.of(Set.of(4L))), decision);
    }

    @Test
    void aLearnerOfAGroupThatLosesNoStoreIsPromotedAlone() {
        ConfState conf = conf(List.of(1L, 2L), List.of(3L));
        assertEquals(new Promote(3), ReplicaMovePlanner.next(1, status(conf, Map.of(3L, replicating(LAST_INDEX))), Set.of(1L, 2L, 3L)).step());
    }

    @Test
    void aLeaderThatIsTheStoreToRemoveHandsLeadershipToTheKeptVoterWithTheLongestLog() {
        ConfState conf = conf(List.of(1L, 2L, 3L), List.of());
        Map<Long, Status.FollowerProgress> progress = Map.of(2L, replicating(LAST_INDEX - 3), 3L, replicating(LAST_INDEX));
        assertEquals(new Decision(new TransferLeadership(3), Optional.empty()),
                ReplicaMovePlanner.next(1, status(conf, progress), Set.of(2L, 3L, 4L)));
        Map<Long, Status.FollowerProgress> probing = Map.of(2L, replicating(LAST_INDEX - 3),
                3L, new Status.FollowerProgress(LAST_INDEX, LAST_INDEX + 1, ProgressState.PROBE, false));
        assertEquals(new TransferLeadership(2), ReplicaMovePlanner.next(1, status(conf, probing), Set.of(2L, 3L, 4L)).step(),
                "a voter not replicating is not handed leadership");
        Status transferring = new Status(1, 5, 1, LAST_INDEX, LAST_INDEX, LAST_INDEX, 1, Role.LEADER, 3, conf, progress);
        assertEquals(new Decision(new Wait(), Optional.empty()), ReplicaMovePlanner.next(1, transferring, Set.of(2L, 3L, 4L)),
                "a transfer under way is waited for");
    }

    @Test
    void aLeaderThatLeavesAGroupOfOneBringsTheNewStoreInFirstAndPromotesItAlone() {
        Set<Long> target = Set.of(2L);
        assertEquals(new AddLearner(2), ReplicaMovePlanner.next(1, status(conf(List.of(1L), List.of()), Map.of()), target).step());
        ConfState learning = conf(List.of(1L), List.of(2L));
        assertEquals(new Promote(2), ReplicaMovePlanner.next(1, status(learning, Map.of(2L, replicating(LAST_INDEX))), target).step());
        // Now a voter the configuration keeps has the log: it gets leadership, and removes store 1.
        ConfState both = conf(List.of(1L, 2L), List.of());
        assertEquals(new TransferLeadership(2), ReplicaMovePlanner.next(1, status(both, Map.of(2L, replicating(LAST_INDEX))), target).step());
        assertEquals(new RemoveVoter(1), ReplicaMovePlanner.next(2, status(both, Map.of(1L, replicating(LAST_INDEX))), target).step());
    }

    @Test
    void anAbandonedLearnerIsRemovedBeforeAnythingElse() {
        ConfState conf = conf(List.of(1L, 2L, 3L), List.of(4L));
        Decision decision = ReplicaMovePlanner.next(1, status(conf, Map.of(4L, replicating(LAST_INDEX))), Set.of(2L, 3L, 5L));
        assertEquals(new Decision(new RemoveLearner(4), Optional.empty()), decision);
    }

    @Test
    void aJointConfigurationBeingLeftIsWaitedFor() {
        ConfState joint = ConfState.newBuilder().addAllVoters(List.of(1L, 2L, 4L)).addAllVotersOutgoing(List.of(1L, 2L, 3L))
                .setAutoLeave(true).build();
        assertEquals(new Decision(new Wait(), Optional.empty()), ReplicaMovePlanner.next(1, status(joint, Map.of()), Set.of(1L, 2L, 4L)));
    }

    @Test
    void onlyGroupsWithAMovedReplicaAreManagedAndAStoreFillsAtMostTwoMovesAtOnce() {
        int half = Slots.SLOT_COUNT / 2;
        SlotLayout layout = SlotLayout.of(3, List.of(new SlotAssignment(new SlotRange(0, half - 1), 1),
                new SlotAssignment(new SlotRange(half, Slots.SLOT_COUNT - 1), 2)),
                Map.of(1L, List.of(1L, 2L, 4L), 2L, List.of(1L, 2L, 3L)), Map.of(1L, 1L));
        assertTrue(ReplicaMovePlanner.managed(layout, 1));
        assertFalse(ReplicaMovePlanner.managed(layout, 2), "no replica of group 2 moved: its membership is the operator's");
        assertFalse(ReplicaMovePlanner.managed(layout, 7), "not in the configuration");
        assertFalse(ReplicaMovePlanner.managed(layout, GroupIds.CONTROLLER_GROUP_ID));
        assertTrue(ReplicaMovePlanner.mayCreate(layout, 1, 4, ReplicaMovePlanner.MAX_INCOMING_MOVES - 1));
        assertFalse(ReplicaMovePlanner.mayCreate(layout, 1, 4, ReplicaMovePlanner.MAX_INCOMING_MOVES), "two moves coming in already");
        assertFalse(ReplicaMovePlanner.mayCreate(layout, 1, 3, 0), "a stale message: group 1 moved off store 3");
        assertTrue(ReplicaMovePlanner.mayCreate(layout, 2, 5, ReplicaMovePlanner.MAX_INCOMING_MOVES), "an unmanaged group is always created");
        // The controller is managed once a configuration that lists its stores moved one of them.
        assertFalse(ReplicaMovePlanner.managed(layout.withController(List.of(1L, 2L, 3L), 0), GroupIds.CONTROLLER_GROUP_ID));
        SlotLayout controllerMoved = layout.withController(List.of(1L, 2L, 4L), 1);
        assertTrue(ReplicaMovePlanner.managed(controllerMoved, GroupIds.CONTROLLER_GROUP_ID));
        assertTrue(ReplicaMovePlanner.mayCreate(controllerMoved, GroupIds.CONTROLLER_GROUP_ID, 4, 0));
        assertFalse(ReplicaMovePlanner.mayCreate(controllerMoved, GroupIds.CONTROLLER_GROUP_ID, 3, 0),
                "a stale message: the controller moved off store 3");
    }

    @Test
    void aStoreListWithNoStoreIsRefused() {
        Status status = status(conf(List.of(1L), List.of()), Map.of());
        assertThrows(IllegalArgumentException.class, () -> ReplicaMovePlanner.next(1, status, Set.of()));
    }

    private static ConfState conf(List<Long> voters, List<Long> learners) {
        return ConfState.newBuilder().addAllVoters(voters).addAllLearners(learners).build();
    }

    private static Status.FollowerProgress replicating(long match) {
        return new Status.FollowerProgress(match, match + 1, ProgressState.REPLICATE, false);
    }

    /** Leader 1's status (or whichever store the test asks as), term 5, log up to {@value #LAST_INDEX}. */
    private static Status status(ConfState conf, Map<Long, Status.FollowerProgress> followers) {
        Map<Long, Status.FollowerProgress> progress = new TreeMap<>(followers);
        return new Status(1, 5, 1, LAST_INDEX, LAST_INDEX, LAST_INDEX, 1, Role.LEADER, 0, conf, progress);
    }
}
