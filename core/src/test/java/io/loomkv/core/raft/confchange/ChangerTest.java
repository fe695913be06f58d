package io.loomkv.core.raft.confchange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.raft.proto.ConfChangeSingle;
import io.loomkv.core.raft.proto.ConfChangeType;
import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.tracker.ProgressTracker;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ChangerTest {

    private static ConfChangeSingle add(long id) {
        return ConfChangeSingle.newBuilder().setType(ConfChangeType.CONF_CHANGE_ADD_NODE).setNodeId(id).build();
    }

    private static ConfChangeSingle learner(long id) {
        return ConfChangeSingle.newBuilder().setType(ConfChangeType.CONF_CHANGE_ADD_LEARNER_NODE).setNodeId(id).build();
    }

    private static ConfChangeSingle remove(long id) {
        return ConfChangeSingle.newBuilder().setType(ConfChangeType.CONF_CHANGE_REMOVE_NODE).setNodeId(id).build();
    }

    private static ProgressTracker tracker(Long... voters) {
        ProgressTracker t = new ProgressTracker(16, 1 << 20);
        Restore.restore(t, ConfState.newBuilder().addAllVoters(List.of(voters)).build(), 10);
        return t;
    }

    @Test
    void simpleChangeOfTwoVotersIsRejected() {
        ProgressTracker t = tracker(1L, 2L, 3L);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Changer(t, 10).simple(List.of(add(4), add(5))));
        assertTrue(e.getMessage().contains("more than one voter"), e.getMessage());
        assertEquals(Set.of(1L, 2L, 3L), t.config().voters().incoming().ids());
    }

    @Test
    void demotingAVoterInJointConfigWaitsInLearnersNext() {
        ProgressTracker t = tracker(1L, 2L, 3L);
        Changer.Result joint = new Changer(t, 10).enterJoint(false, List.of(learner(3)));
        t.apply(joint.config(), joint.progress());
        assertEquals(Set.of(3L), t.config().learnersNext());
        assertTrue(t.config().voters().outgoing().contains(3));
        Changer.Result left = new Changer(t, 10).leaveJoint();
        t.apply(left.config(), left.progress());
        assertEquals(Set.of(3L), t.config().learners());
        assertTrue(t.get(3).isLearner());
        assertEquals(Set.of(1L, 2L), t.config().voters().incoming().ids());
    }

    @Test
    void restoreRoundTripsAJointConfState() {
        ConfState cs = ConfState.newBuilder().addAllVoters(List.of(1L, 2L, 4L)).addAllVotersOutgoing(List.of(1L, 2L, 3L))
                .addLearners(5L).setAutoLeave(true).build();
        ProgressTracker t = new ProgressTracker(16, 1 << 20);
        Restore.restore(t, cs, 10);
        assertEquals(cs, t.config().toConfState());
    }

    @Test
    void enteringJointTwiceAndLeavingWithoutJointAreRejected() {
        ProgressTracker t = tracker(1L, 2L, 3L);
        assertThrows(IllegalArgumentException.class, () -> new Changer(t, 10).leaveJoint());
        Changer.Result joint = new Changer(t, 10).enterJoint(true, List.of(add(4), remove(1)));
        t.apply(joint.config(), joint.progress());
        assertThrows(IllegalArgumentException.class, () -> new Changer(t, 10).enterJoint(true, List.of(add(5))));
        assertThrows(IllegalArgumentException.class, () -> new Changer(t, 10).simple(List.of(add(5))));
        // The removed voter keeps its progress while it is still an outgoing voter.
        assertTrue(t.get(1) != null);
        Changer.Result left = new Changer(t, 10).leaveJoint();
        t.apply(left.config(), left.progress());
        assertEquals(null, t.get(1));
    }
}
