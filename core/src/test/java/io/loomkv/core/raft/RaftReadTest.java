package io.loomkv.core.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.proto.MessageType;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Linearizable reads: ReadIndex (Raft thesis 6.4) and leader leases (6.4.1). */
class RaftReadTest {

    private static ByteString ctx(String s) {
        return ByteString.copyFromUtf8(s);
    }

    @Test
    void manyReadIndexRequestsAreServedByOneHeartbeatRound() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        long commit = c.node(1).status().commitIndex();
        c.delivered.clear();
        for (int i = 0; i < 10; i++) {
            c.node(1).readIndex(ctx("r" + i));
        }
        c.stabilize();
        assertEquals(2, c.deliveredOfType(MessageType.MSG_HEARTBEAT).size(), "one round to two followers");
        List<ReadState> reads = c.reads.get(1L);
        assertEquals(10, reads.size());
        for (int i = 0; i < 10; i++) {
            assertEquals(ctx("r" + i), reads.get(i).context());
            assertEquals(commit, reads.get(i).index());
        }
    }

    @Test
    void readIndexOnFollowerIsConfirmedByTheLeader() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        c.propose(1, "a");
        c.node(3).readIndex(ctx("f"));
        c.stabilize();
        List<ReadState> reads = c.reads.get(3L);
        assertEquals(1, reads.size());
        assertEquals(c.node(1).status().commitIndex(), reads.get(0).index());
    }

    @Test
    void newLeaderAnswersReadsOnlyAfterItsNoOpCommits() {
        TestCluster c = TestCluster.of(3);
        c.node(1).campaign();
        for (int guard = 0; c.node(1).softState().role() != Role.LEADER; guard++) {
            assertTrue(guard < 100);
            for (long id = 1; id <= 3; id++) {
                c.process(id);
            }
            c.deliverOne();
        }
        c.node(1).readIndex(ctx("early"));
        Ready rd = c.node(1).ready();
        assertTrue(rd.readStates().isEmpty(), "read answered before the term's first commit");
        c.storages.get(1L).append(rd.entries());
        c.inFlight.addAll(rd.messagesBeforePersist());
        c.inFlight.addAll(rd.messagesAfterPersist());
        c.node(1).advance();
        c.stabilize();
        assertEquals(1, c.reads.get(1L).size());
        assertEquals(1, c.reads.get(1L).get(0).index(), "read index is the no-op's index");
    }

    @Test
    void readIndexWithoutQuorumIsNeverAnswered() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        c.isolate(1);
        c.node(1).readIndex(ctx("x"));
        c.tickAll(5);
        assertTrue(c.reads.get(1L).isEmpty());
    }

    @Test
    void pendingReadsAreBounded() {
        TestCluster c = TestCluster.of(3, id -> TestCluster.defaults(id).maxPendingReads(2));
        c.elect(1);
        c.isolate(1);
        c.node(1).readIndex(ctx("a"));
        c.node(1).readIndex(ctx("b"));
        RequestDroppedException e = assertThrows(RequestDroppedException.class, () -> c.node(1).readIndex(ctx("c")));
        assertTrue(e.getMessage().contains("pending reads"), e.getMessage());
    }

    @Test
    void readWithoutLeaderIsDropped() {
        TestCluster c = TestCluster.of(3);
        assertThrows(RequestDroppedException.class, () -> c.node(2).readIndex(ctx("x")));
        assertThrows(IllegalArgumentException.class, () -> c.node(2).readIndex(ByteString.EMPTY));
    }

    private static TestCluster leaseCluster() {
        return TestCluster.of(3, id -> TestCluster.defaults(id).checkQuorum(true).leaseReads(5));
    }

    @Test
    void leaseReadIsServedWithoutARoundTrip() {
        TestCluster c = leaseCluster();
        c.elect(1);
        c.tickAll(1);
        assertTrue(c.node(1).leaseValid());
        c.node(1).readIndex(ctx("lease"));
        Ready rd = c.node(1).ready();
        assertEquals(1, rd.readStates().size());
        assertTrue(rd.messagesBeforePersist().isEmpty(), "no heartbeat round needed");
        c.node(1).advance();
    }

    @Test
    void expiredLeaseFallsBackToReadIndex() {
        TestCluster c = leaseCluster();
        c.elect(1);
        c.tickAll(1);
        c.isolate(1);
        for (int i = 0; i < 5; i++) {
            c.tick(1);
            c.stabilize();
        }
        assertTrue(!c.node(1).leaseValid(), "lease must expire after leaseTicks without acks");
        c.node(1).readIndex(ctx("late"));
        c.stabilize();
        assertTrue(c.reads.get(1L).isEmpty(), "an isolated leader must not answer after its lease");
        c.heal();
        c.tickAll(1);
        assertEquals(1, c.reads.get(1L).size(), "answered by a heartbeat round once healed");
    }

    @Test
    void followersInLeaseIgnoreVoteRequestsSoLeasesAreSafe() {
        TestCluster c = leaseCluster();
        c.elect(1);
        c.tickAll(1);
        c.isolate(1);
        // 3 campaigns at once; 2 heard from 1 within the election timeout and ignores it.
        c.elect(3);
        assertEquals(Role.CANDIDATE, c.node(3).softState().role());
        assertEquals(1, c.node(2).softState().leaderId());
    }

    @Test
    void leaseIsMeasuredFromWhenTheHeartbeatWasSentNotWhenItsAckArrived() {
        TestCluster c = leaseCluster();
        c.elect(1);
        // Heartbeats sent at tick T are held back...
        c.tick(1);
        c.process(1);
        List<io.loomkv.core.raft.proto.Message> held = new java.util.ArrayList<>(c.inFlight);
        c.inFlight.clear();
        assertTrue(held.stream().anyMatch(m -> m.getType() == MessageType.MSG_HEARTBEAT));
        // ...while four more ticks pass and their heartbeats are lost.
        for (int i = 0; i < 4; i++) {
            c.tick(1);
            c.process(1);
            c.inFlight.clear();
        }
        // Now the old heartbeats arrive and are acknowledged: the lease runs from T, so one tick
        // later (T + 5 = T + leaseTicks) it has expired although the acks are only a tick old.
        c.inFlight.addAll(held);
        c.stabilize();
        assertTrue(c.node(1).leaseValid(), "acknowledged at T + 4, lease until T + 5");
        c.tick(1);
        assertTrue(!c.node(1).leaseValid(), "lease must run from the send tick T");
    }
}
