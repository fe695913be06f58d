package io.loomkv.core.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.TextFormat;
import io.loomkv.core.raft.proto.ConfChange;
import io.loomkv.core.raft.proto.ConfChangeSingle;
import io.loomkv.core.raft.proto.ConfChangeTransition;
import io.loomkv.core.raft.proto.ConfChangeType;
import io.loomkv.core.raft.proto.ConfState;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Learners and joint consensus (Raft thesis chapter 4). */
class RaftMembershipTest {

    static ConfChange change(ConfChangeTransition transition, Object... typeAndId) {
        ConfChange.Builder b = ConfChange.newBuilder().setTransition(transition);
        for (int i = 0; i < typeAndId.length; i += 2) {
            b.addChanges(ConfChangeSingle.newBuilder().setType((ConfChangeType) typeAndId[i])
                    .setNodeId((Long) typeAndId[i + 1]));
        }
        return b.build();
    }

    static ConfChange simple(ConfChangeType type, long id) {
        return change(ConfChangeTransition.CONF_CHANGE_TRANSITION_AUTO, type, id);
    }

    private static TestCluster clusterWithJoiner(long joiner) {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        // A joiner starts from the founding membership and replays the log's changes on top of it.
        c.add(joiner, MemoryStorage.bootstrap(List.of(1L, 2L, 3L)), TestCluster.defaults(joiner).build());
        return c;
    }

    @Test
    void learnerCatchesUpButNeitherVotesNorCounts() {
        TestCluster c = clusterWithJoiner(4);
        c.propose(1, "before");
        c.node(1).proposeConfChange(simple(ConfChangeType.CONF_CHANGE_ADD_LEARNER_NODE, 4L));
        c.stabilize();
        c.tickAll(3);
        assertEquals(List.of("before"), c.appliedData(4));
        assertEquals(List.of(4L), c.node(1).status().confState().getLearnersList());
        assertEquals(List.of(4L), c.node(4).status().confState().getLearnersList());
        // A learner never campaigns...
        for (int i = 0; i < 40; i++) {
            c.tick(4);
        }
        c.stabilize();
        assertEquals(Role.FOLLOWER, c.node(4).softState().role());
        // ...and its acknowledgement does not make a quorum.
        c.isolate(2);
        c.isolate(3);
        long commit = c.node(1).status().commitIndex();
        c.propose(1, "needs-a-voter");
        assertEquals(commit, c.node(1).status().commitIndex());
        c.heal();
        c.tickAll(2);
        assertEquals(List.of("before", "needs-a-voter"), c.appliedData(4));
    }

    /**
     * A Multi-Raft store retires a replica it believes removed and creates an empty one when the
     * group's leader talks to it again. If the group had added the store back meanwhile, the
     * leader's progress still holds what the retired replica matched, and its heartbeat carries a
     * commit index the empty replica's log does not reach (simulator seed 50). The empty replica,
     * which knows no membership, says so instead of failing, and the leader starts it over.
     */
    @Test
    void anEmptyReplicaInPlaceOfOneTheLeaderMatchedIsStartedOver() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        c.propose(1, "first");
        c.snapshotAndCompact(1); // Founding memberships are not in this log: a new replica starts from a snapshot.
        c.add(4, new MemoryStorage(), TestCluster.defaults(4).build());
        c.node(1).proposeConfChange(simple(ConfChangeType.CONF_CHANGE_ADD_LEARNER_NODE, 4L));
        c.stabilize();
        c.propose(1, "a");
        c.propose(1, "b");
        long last = c.node(1).status().commitIndex();
        assertEquals(last, c.node(1).status().progress().get(4L).match());

        c.add(4, new MemoryStorage(), TestCluster.defaults(4).build()); // retired, then created empty for the leader
        c.tickAll(3);
        c.propose(1, "c");
        assertEquals(last + 1, c.node(4).status().commitIndex());
        assertEquals(last + 1, c.node(1).status().progress().get(4L).match());
        assertEquals(List.of(4L), c.node(4).status().confState().getLearnersList());
    }

    /**
     * The same for a replacement that already knows a membership, even one that lists it as a
     * voter (it took an old snapshot, and then a heartbeat computed from its predecessor's
     * acknowledgements arrived: simulator seed 7514), when its runtime says it created the replica
     * for the leader; and for a learner, whose acknowledgements never counted.
     */
    @Test
    void aReplicaCreatedForItsLeaderOrALearnerInPlaceOfOneTheLeaderMatchedIsStartedOver() {
        ConfState voter = ConfState.newBuilder().addVoters(1).addVoters(2).addVoters(3).addVoters(4).build();
        ConfState learner = ConfState.newBuilder().addVoters(1).addVoters(2).addVoters(3).addLearners(4).build();
        for (ConfState known : List.of(voter, learner)) {
            TestCluster c = TestCluster.of(3);
            c.elect(1);
            c.propose(1, "first");
            c.snapshotAndCompact(1);
            c.add(4, new MemoryStorage(), TestCluster.defaults(4).build());
            c.node(1).proposeConfChange(simple(ConfChangeType.CONF_CHANGE_ADD_LEARNER_NODE, 4L));
            c.stabilize();
            c.propose(1, "a");
            long last = c.node(1).status().commitIndex();
            assertEquals(last, c.node(1).status().progress().get(4L).match());

            MemoryStorage replacement = new MemoryStorage();
            replacement.setBootstrapConfState(known);
            c.add(4, replacement, TestCluster.defaults(4).createdForLeader(known == voter).build());
            c.tickAll(3);
            c.propose(1, "b");
            assertEquals(last + 1, c.node(4).status().commitIndex(), TextFormat.shortDebugString(known));
            assertEquals(last + 1, c.node(1).status().progress().get(4L).match());
        }
    }

    /** A replica that knows a membership and lost entries it acknowledged still fails: its acknowledgements counted. */
    @Test
    void aMemberThatLostAcknowledgedEntriesStillFails() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        c.propose(1, "a");
        c.add(3, MemoryStorage.bootstrap(List.of(1L, 2L, 3L)), TestCluster.defaults(3).build());
        IllegalStateException failure = assertThrows(IllegalStateException.class, () -> c.tickAll(3));
        assertTrue(failure.getMessage().contains("out of range"), failure.getMessage());
    }

    @Test
    void learnerIsPromotedToVoterAndCanLead() {
        TestCluster c = clusterWithJoiner(4);
        c.node(1).proposeConfChange(simple(ConfChangeType.CONF_CHANGE_ADD_LEARNER_NODE, 4L));
        c.stabilize();
        assertThrows(RequestDroppedException.class, () -> c.node(1).transferLeader(4));
        c.node(1).proposeConfChange(simple(ConfChangeType.CONF_CHANGE_ADD_NODE, 4L));
        c.stabilize();
        assertEquals(List.of(1L, 2L, 3L, 4L), c.node(1).status().confState().getVotersList());
        assertEquals(List.of(), c.node(1).status().confState().getLearnersList());
        c.node(1).transferLeader(4);
        c.stabilize();
        assertEquals(4, c.leader());
        c.propose(4, "from-4");
        assertEquals(List.of("from-4"), c.appliedData(1));
    }

    @Test
    void secondConfChangeWhileOneIsPendingIsRefused() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        c.node(1).proposeConfChange(simple(ConfChangeType.CONF_CHANGE_ADD_LEARNER_NODE, 4L));
        RequestDroppedException e = assertThrows(RequestDroppedException.class,
                () -> c.node(1).proposeConfChange(simple(ConfChangeType.CONF_CHANGE_ADD_LEARNER_NODE, 5L)));
        assertTrue(e.getMessage().contains("unapplied conf change"), e.getMessage());
    }

    @Test
    void replacingANodeGoesThroughAJointConfigAndLeavesItAutomatically() {
        TestCluster c = clusterWithJoiner(4);
        ConfChange replace = change(ConfChangeTransition.CONF_CHANGE_TRANSITION_AUTO,
                ConfChangeType.CONF_CHANGE_ADD_NODE, 4L, ConfChangeType.CONF_CHANGE_REMOVE_NODE, 3L);
        c.node(1).proposeConfChange(replace);
        c.stabilize();
        c.tickAll(3);
        ConfState cs = c.node(1).status().confState();
        assertEquals(List.of(1L, 2L, 4L), cs.getVotersList());
        assertEquals(List.of(), cs.getVotersOutgoingList());
        // The joint config was entered (an applied state had outgoing voters) and left.
        assertTrue(c.applied.get(1L).stream().filter(e -> e.getType() == io.loomkv.core.raft.proto.EntryType.ENTRY_CONF_CHANGE)
                .count() == 2, "enter joint + auto leave");
        c.crash(3);
        c.propose(1, "without-3");
        assertEquals(List.of("without-3"), c.appliedData(4));
    }

    @Test
    void explicitJointConfigIsLeftOnlyOnRequest() {
        TestCluster c = clusterWithJoiner(4);
        c.node(1).proposeConfChange(change(ConfChangeTransition.CONF_CHANGE_TRANSITION_JOINT_EXPLICIT,
                ConfChangeType.CONF_CHANGE_ADD_NODE, 4L));
        c.stabilize();
        c.tickAll(3);
        ConfState joint = c.node(1).status().confState();
        assertEquals(List.of(1L, 2L, 3L, 4L), joint.getVotersList());
        assertEquals(List.of(1L, 2L, 3L), joint.getVotersOutgoingList());
        RequestDroppedException e = assertThrows(RequestDroppedException.class,
                () -> c.node(1).proposeConfChange(simple(ConfChangeType.CONF_CHANGE_REMOVE_NODE, 2L)));
        assertTrue(e.getMessage().contains("leave the joint config"), e.getMessage());
        c.node(1).proposeConfChange(ConfChange.getDefaultInstance());
        c.stabilize();
        assertEquals(List.of(), c.node(1).status().confState().getVotersOutgoingList());
        assertEquals(List.of(), c.node(4).status().confState().getVotersOutgoingList());
    }

    @Test
    void jointConfigNeedsMajoritiesOfBothHalvesUnderPartition() {
        TestCluster c = clusterWithJoiner(4);
        c.add(5, MemoryStorage.bootstrap(List.of(1L, 2L, 3L)), TestCluster.defaults(5).build());
        // {1,2,3} -> {1,4,5}, held joint explicitly.
        c.node(1).proposeConfChange(change(ConfChangeTransition.CONF_CHANGE_TRANSITION_JOINT_EXPLICIT,
                ConfChangeType.CONF_CHANGE_ADD_NODE, 4L, ConfChangeType.CONF_CHANGE_ADD_NODE, 5L,
                ConfChangeType.CONF_CHANGE_REMOVE_NODE, 2L, ConfChangeType.CONF_CHANGE_REMOVE_NODE, 3L));
        c.stabilize();
        c.tickAll(3);
        assertEquals(List.of(1L, 2L, 3L), c.node(1).status().confState().getVotersOutgoingList());
        // The old majority (1,2,3) is reachable but the new one (1,4,5) is not: no commit.
        c.cut(1, 4);
        c.cut(1, 5);
        long commit = c.node(1).status().commitIndex();
        c.propose(1, "joint");
        c.tickAll(2);
        assertEquals(commit, c.node(1).status().commitIndex());
        // And the other way round.
        c.heal();
        c.tickAll(2);
        assertEquals(List.of("joint"), c.appliedData(5));
        c.cut(1, 2);
        c.cut(1, 3);
        commit = c.node(1).status().commitIndex();
        c.propose(1, "joint2");
        c.tickAll(2);
        assertEquals(commit, c.node(1).status().commitIndex());
        c.heal();
        c.node(1).proposeConfChange(ConfChange.getDefaultInstance());
        c.stabilize();
        c.tickAll(2);
        assertEquals(List.of(1L, 4L, 5L), c.node(1).status().confState().getVotersList());
        assertEquals(List.of("joint", "joint2"), c.appliedData(4));
    }

    @Test
    void removedLeaderStepsDownAndTheRestElectANewOne() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        c.node(1).proposeConfChange(simple(ConfChangeType.CONF_CHANGE_REMOVE_NODE, 1L));
        c.stabilize();
        assertEquals(Role.FOLLOWER, c.node(1).softState().role());
        assertEquals(List.of(2L, 3L), c.node(2).status().confState().getVotersList());
        c.tickAll(40);
        long leader = c.leader();
        assertTrue(leader == 2 || leader == 3, "leader " + leader);
        c.propose(leader, "after-removal");
        assertEquals(List.of("after-removal"), c.appliedData(leader == 2 ? 3 : 2));
        for (int i = 0; i < 40; i++) {
            c.tick(1);
        }
        c.stabilize();
        assertTrue(c.node(1).softState().role() != Role.LEADER, "a removed node never campaigns");
    }

    @Test
    void leaderRemovedThroughJointConfigLeadsUntilItIsLeft() {
        TestCluster c = clusterWithJoiner(4);
        c.node(1).proposeConfChange(change(ConfChangeTransition.CONF_CHANGE_TRANSITION_AUTO,
                ConfChangeType.CONF_CHANGE_ADD_NODE, 4L, ConfChangeType.CONF_CHANGE_REMOVE_NODE, 1L));
        c.stabilize();
        assertEquals(List.of(2L, 3L, 4L), c.node(2).status().confState().getVotersList());
        assertEquals(Role.FOLLOWER, c.node(1).softState().role());
        c.tickAll(40);
        long leader = c.leader();
        assertTrue(leader >= 2 && leader <= 4, "leader " + leader);
        c.propose(leader, "new-config");
        assertEquals(List.of("new-config"), c.appliedData(4));
    }

    @Test
    void invalidConfChangeLeavesMembershipUnchanged() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        ConfState before = c.node(1).status().confState();
        IllegalArgumentException allVoters = assertThrows(IllegalArgumentException.class,
                () -> c.node(1).applyConfChange(change(ConfChangeTransition.CONF_CHANGE_TRANSITION_AUTO,
                        ConfChangeType.CONF_CHANGE_REMOVE_NODE, 1L, ConfChangeType.CONF_CHANGE_REMOVE_NODE, 2L,
                        ConfChangeType.CONF_CHANGE_REMOVE_NODE, 3L)));
        assertTrue(allVoters.getMessage().contains("removed all voters"), allVoters.getMessage());
        IllegalArgumentException leave = assertThrows(IllegalArgumentException.class,
                () -> c.node(1).applyConfChange(ConfChange.getDefaultInstance()));
        assertTrue(leave.getMessage().contains("non-joint"), leave.getMessage());
        assertEquals(before, c.node(1).status().confState());
        assertEquals(1, c.leader());
        c.propose(1, "still-fine");
        assertEquals(List.of("still-fine"), c.appliedData(3));
    }

    @Test
    void emptyEntriesLikeLeaveJointAreAcceptedBeyondTheUncommittedLimit() {
        TestCluster c = TestCluster.of(3, id -> TestCluster.defaults(id).maxUncommittedEntriesBytes(10));
        c.elect(1);
        c.isolate(1);
        c.node(1).propose(ByteString.copyFrom(new byte[8]));
        assertThrows(RequestDroppedException.class, () -> c.node(1).propose(ByteString.copyFrom(new byte[8])));
        long last = c.node(1).status().lastIndex();
        // A leave-joint change and other empty entries carry no data: they always fit.
        c.node(1).propose(ByteString.EMPTY);
        assertEquals(last + 1, c.node(1).status().lastIndex());
    }

    @Test
    void nodeAddedAfterTheLastSnapshotCatchesUpFromASnapshotThatDoesNotNameIt() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        for (int i = 0; i < 5; i++) {
            c.propose(1, "v" + i + ";");
        }
        c.snapshotAndCompact(1);
        c.add(4, MemoryStorage.bootstrap(List.of(1L, 2L, 3L)), TestCluster.defaults(4).build());
        c.node(1).proposeConfChange(simple(ConfChangeType.CONF_CHANGE_ADD_LEARNER_NODE, 4L));
        c.stabilize();
        c.tickAll(5);
        assertEquals(List.of(1L, 2L, 3L), c.storages.get(4L).snapshotMetadata().getConfState().getVotersList());
        assertEquals(List.of(4L), c.node(4).status().confState().getLearnersList());
        assertEquals(c.stateMachine.get(1L), c.stateMachine.get(4L));
        c.node(1).proposeConfChange(simple(ConfChangeType.CONF_CHANGE_ADD_NODE, 4L));
        c.stabilize();
        c.node(1).transferLeader(4);
        c.stabilize();
        assertEquals(4, c.leader());
    }

    @Test
    void nodeWithCommittedButUnappliedConfChangeDoesNotCampaign() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        c.node(1).proposeConfChange(simple(ConfChangeType.CONF_CHANGE_ADD_LEARNER_NODE, 4L));
        // Replicate and commit the change, but stop once node 2 has learned the commit index and
        // before it handles the Ready that would apply it.
        c.process(1);
        while (c.deliverOne()) {
            // deliver the appends
        }
        c.process(2);
        c.process(3);
        while (c.deliverOne()) {
            // deliver the acks
        }
        c.process(1);
        while (c.deliverOne()) {
            // deliver the commit index
        }
        assertEquals(2, c.node(2).status().commitIndex());
        assertEquals(1, c.node(2).status().appliedIndex());
        long term = c.node(2).status().term();
        c.node(2).campaign();
        assertEquals(Role.FOLLOWER, c.node(2).softState().role());
        assertEquals(term, c.node(2).status().term());
    }
}
