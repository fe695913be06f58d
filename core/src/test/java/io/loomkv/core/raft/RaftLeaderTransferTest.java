package io.loomkv.core.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.proto.MessageType;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Leadership transfer (Raft thesis 3.10): catch the target up, then MSG_TIMEOUT_NOW. */
class RaftLeaderTransferTest {

    @Test
    void transferToUpToDateFollowerSendsTimeoutNowAndTargetWins() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        c.node(1).transferLeader(2);
        c.stabilize();
        assertEquals(1, c.deliveredOfType(MessageType.MSG_TIMEOUT_NOW).size());
        assertEquals(2, c.leader());
        assertEquals(2, c.node(2).status().term());
    }

    @Test
    void laggingTargetIsCaughtUpBeforeTimeoutNow() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        c.isolate(3);
        c.propose(1, "x");
        c.heal();
        c.delivered.clear();
        c.node(1).transferLeader(3);
        c.stabilize();
        int firstApp = -1;
        int timeoutNow = -1;
        for (int i = 0; i < c.delivered.size(); i++) {
            var m = c.delivered.get(i);
            if (firstApp < 0 && m.getType() == MessageType.MSG_APP && m.getTo() == 3 && m.getEntriesCount() > 0) {
                firstApp = i;
            }
            if (m.getType() == MessageType.MSG_TIMEOUT_NOW) {
                timeoutNow = i;
            }
        }
        assertTrue(firstApp >= 0 && timeoutNow > firstApp, "append " + firstApp + " then TimeoutNow " + timeoutNow);
        assertEquals(3, c.leader());
        assertEquals(List.of("x"), c.appliedData(3));
    }

    @Test
    void transferIsAbandonedAfterAnElectionTimeoutAndProposalsResume() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        c.crash(3);
        c.node(1).transferLeader(3);
        assertEquals(3, c.node(1).status().leadTransferee());
        assertThrows(RequestDroppedException.class, () -> c.node(1).propose(ByteString.copyFromUtf8("blocked")));
        for (int i = 0; i < 10; i++) {
            c.tick(1);
            c.tick(2);
            c.stabilize();
        }
        assertEquals(0, c.node(1).status().leadTransferee());
        assertEquals(1, c.leader());
        c.propose(1, "ok");
        assertEquals(List.of("ok"), c.appliedData(2));
    }

    @Test
    void transferRequestOnFollowerIsForwardedToLeader() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        c.node(3).transferLeader(3);
        c.stabilize();
        assertEquals(3, c.leader());
    }

    @Test
    void transferToSelfIsIgnoredAndToUnknownNodeRefused() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        c.node(1).transferLeader(1);
        c.stabilize();
        assertEquals(1, c.leader());
        assertEquals(0, c.node(1).status().leadTransferee());
        assertThrows(RequestDroppedException.class, () -> c.node(1).transferLeader(9));
        assertThrows(IllegalArgumentException.class, () -> c.node(1).transferLeader(0));
    }

    @Test
    void transferOverridesCheckQuorumLeaseAndPreVote() {
        TestCluster c = TestCluster.of(3, id -> TestCluster.defaults(id).preVote(true).checkQuorum(true));
        c.elect(1);
        c.tickAll(2);
        c.node(1).transferLeader(2);
        c.stabilize();
        assertEquals(2, c.leader());
    }

    @Test
    void leaseReadsAreSuspendedWhileATransferIsUnderWay() {
        TestCluster c = TestCluster.of(3, id -> TestCluster.defaults(id).checkQuorum(true).leaseReads(5));
        c.elect(1);
        c.tickAll(1);
        assertTrue(c.node(1).leaseValid());
        c.crash(3);
        c.node(1).transferLeader(3);
        assertFalse(c.node(1).leaseValid());
    }
}
