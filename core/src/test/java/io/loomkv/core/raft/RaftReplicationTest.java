package io.loomkv.core.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.Message;
import io.loomkv.core.raft.proto.MessageType;
import io.loomkv.core.raft.tracker.ProgressState;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Raft paper section 5.3/5.4 (log replication, safety) and the leader's replication machinery. */
class RaftReplicationTest {

    @Test
    void leaderCommitsEntryOnceReplicatedToMajority() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        c.isolate(3);
        c.propose(1, "a");
        assertEquals(List.of("a"), c.appliedData(1));
        assertEquals(List.of("a"), c.appliedData(2));
        assertEquals(List.of(), c.appliedData(3));
        c.heal();
        c.tickAll(2);
        assertEquals(List.of("a"), c.appliedData(3));
    }

    @Test
    void leaderDoesNotCommitWithoutMajority() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        long commit = c.node(1).status().commitIndex();
        c.isolate(1);
        c.propose(1, "a");
        c.tickAll(3);
        assertEquals(commit, c.node(1).status().commitIndex());
        assertEquals(List.of(), c.appliedData(1));
    }

    @Test
    void newLeaderCommitsNoOpOfItsOwnTermFirst() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        Entry first = c.applied.get(1L).get(0);
        assertEquals(1, first.getTerm());
        assertTrue(first.getData().isEmpty(), "first committed entry of a term is the leader's no-op");
        c.elect(2);
        Entry noop = c.applied.get(2L).get(c.applied.get(2L).size() - 1);
        assertEquals(2, noop.getTerm());
        assertTrue(noop.getData().isEmpty());
    }

    @Test
    void leaderOnlyCommitsEntriesFromItsCurrentTermByCounting() {
        // Figure 8: an entry of an old term stored on a majority is not committed by counting.
        TestCluster c = TestCluster.of(3, id -> TestCluster.defaults(id).maxEntriesPerAppend(1));
        c.elect(1);
        // Entry "old" (index 2, term 1) reaches only node 1, which then crashes and restarts.
        c.isolate(1);
        c.propose(1, "old");
        c.crash(1);
        c.heal();
        c.restart(1);
        c.cut(1, 3);
        c.cut(2, 3);
        // 1 wins term 2 with 2's vote. Its first append (probe at index 2, which 2 rejects) goes
        // through; later appends carrying the term-2 no-op never arrive, so "old" alone ends up on
        // a majority (1 and 2).
        java.util.concurrent.atomic.AtomicInteger noOpAppends = new java.util.concurrent.atomic.AtomicInteger();
        c.dropFilter = m -> m.getType() == MessageType.MSG_APP && m.getFrom() == 1
                && m.getEntriesList().stream().anyMatch(e -> e.getTerm() == 2) && noOpAppends.getAndIncrement() > 0;
        c.node(1).campaign();
        c.stabilize();
        assertEquals(Role.LEADER, c.node(1).softState().role());
        assertEquals(2, c.node(1).status().term());
        assertEquals(2, c.storages.get(2L).lastIndex(), "node 2 stores the old entry");
        assertEquals(1, c.node(1).status().commitIndex(), "old-term entry committed by counting");
        assertTrue(c.appliedData(1).isEmpty());
        c.dropFilter = m -> false;
        c.tickAll(3);
        assertEquals(List.of("old"), c.appliedData(1));
        assertEquals(List.of("old"), c.appliedData(2));
    }

    @Test
    void leaderAppendsGoBeforePersistButItsOwnAckWaitsForIt() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        RaftNode leader = c.node(1);
        long commit = leader.status().commitIndex();
        leader.propose(ByteString.copyFromUtf8("a"));
        Ready rd = leader.ready();
        assertEquals(1, rd.entries().size());
        assertEquals(2, rd.messagesBeforePersist().size());
        assertTrue(rd.messagesBeforePersist().stream().allMatch(m -> m.getType() == MessageType.MSG_APP));
        // Follower 2 persists and acks before the leader persisted: 1 of 3 is not a quorum.
        c.node(2).step(rd.messagesBeforePersist().get(0));
        Ready f = c.node(2).ready();
        assertTrue(f.messagesBeforePersist().isEmpty());
        Message ack = f.messagesAfterPersist().get(0);
        assertEquals(MessageType.MSG_APP_RESP, ack.getType());
        c.storages.get(2L).append(f.entries());
        c.node(2).advance();
        leader.step(ack);
        // Only the follower has "a" durably (1 of 3): not committed until the leader's own write.
        assertEquals(commit, leader.status().commitIndex());
        c.storages.get(1L).append(rd.entries());
        leader.advance();
        assertEquals(commit + 1, leader.status().commitIndex());
    }

    @Test
    void followerRemovesConflictingEntriesAndAppendsLeaders() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        c.isolate(1);
        c.propose(1, "lost1");
        c.propose(1, "lost2");
        c.heal();
        c.isolate(1);
        c.elect(2);
        c.propose(2, "kept");
        c.heal();
        c.tickAll(3);
        for (long id = 1; id <= 3; id++) {
            assertEquals(List.of("kept"), c.appliedData(id), "node " + id);
        }
        assertEquals(c.storages.get(2L).lastIndex(), c.storages.get(1L).lastIndex());
    }

    @Test
    void appendsAreBatchedWithinEntryAndByteLimits() {
        TestCluster c = TestCluster.of(3, id -> TestCluster.defaults(id).maxEntriesPerAppend(3)
                .maxAppendSizeBytes(300));
        c.elect(1);
        c.isolate(2);
        for (int i = 0; i < 20; i++) {
            c.node(1).propose(ByteString.copyFrom(new byte[100]));
        }
        c.stabilize();
        c.heal();
        c.delivered.clear();
        c.tickAll(10);
        List<Message> apps = c.deliveredOfType(MessageType.MSG_APP).stream().filter(m -> m.getTo() == 2).toList();
        assertTrue(apps.stream().anyMatch(m -> m.getEntriesCount() > 1), "no batching at all");
        for (Message m : apps) {
            assertTrue(m.getEntriesCount() <= 3, "entries " + m.getEntriesCount());
            long bytes = m.getEntriesList().stream().mapToLong(Entry::getSerializedSize).sum();
            assertTrue(m.getEntriesCount() == 1 || bytes <= 300, "bytes " + bytes);
        }
        assertEquals(20, c.appliedData(2).size());
    }

    @Test
    void replicatingFollowerGetsPipelinedAppendsUpToInflightWindow() {
        TestCluster c = TestCluster.of(3, id -> TestCluster.defaults(id).maxInflightAppends(2).maxEntriesPerAppend(1));
        c.elect(1);
        assertEquals(ProgressState.REPLICATE, c.node(1).status().progress().get(2L).state());
        // Acks from 2 are lost: the leader sends at most 2 appends with entries, then waits.
        c.dropFilter = m -> m.getType() == MessageType.MSG_APP_RESP && m.getFrom() == 2;
        c.delivered.clear();
        for (int i = 0; i < 5; i++) {
            c.node(1).propose(ByteString.copyFromUtf8("e" + i));
        }
        c.stabilize();
        long toTwo = c.deliveredOfType(MessageType.MSG_APP).stream()
                .filter(m -> m.getTo() == 2 && m.getEntriesCount() > 0).count();
        assertEquals(2, toTwo);
        long toThree = c.deliveredOfType(MessageType.MSG_APP).stream()
                .filter(m -> m.getTo() == 3 && m.getEntriesCount() > 0).count();
        assertTrue(toThree >= 5, "3 acks, so its window keeps moving: " + toThree);
        c.dropFilter = m -> false;
        c.tickAll(5);
        assertEquals(5, c.appliedData(2).size());
    }

    @Test
    void probingFollowerGetsOneAppendAtATime() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        c.crash(3);
        c.node(1).reportUnreachable(3);
        assertEquals(ProgressState.PROBE, c.node(1).status().progress().get(3L).state());
        c.delivered.clear();
        c.inFlight.clear();
        for (int i = 0; i < 3; i++) {
            c.node(1).propose(ByteString.copyFromUtf8("p" + i));
            c.process(1);
        }
        long probes = c.inFlight.stream().filter(m -> m.getTo() == 3 && m.getType() == MessageType.MSG_APP).count();
        assertEquals(1, probes);
    }

    @Test
    void rejectionHintsSkipWholeTermsWhenBacktracking() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        // Node 1 accumulates 30 entries of term 1 that nobody else has...
        c.isolate(1);
        for (int i = 0; i < 30; i++) {
            c.node(1).propose(ByteString.copyFromUtf8("stale" + i));
        }
        c.stabilize();
        // ...while 2 leads term 2 and appends 40 entries, then 3 leads term 3, whose first probe to
        // 1 starts at 3's last index, far beyond where the logs diverge.
        c.elect(2);
        for (int i = 0; i < 40; i++) {
            c.node(2).propose(ByteString.copyFromUtf8("new" + i));
        }
        c.stabilize();
        c.elect(3);
        c.heal();
        c.delivered.clear();
        c.tickAll(5);
        long rejections = c.deliveredOfType(MessageType.MSG_APP_RESP).stream()
                .filter(m -> m.getFrom() == 1 && m.getReject()).count();
        assertTrue(rejections >= 1 && rejections <= 2, "rejections " + rejections + " (one per term, not per entry)");
        assertEquals(40, c.appliedData(1).size());
        assertEquals("new0", c.appliedData(1).get(0));
    }

    @Test
    void followerForwardsProposalsToLeader() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        c.propose(3, "via3");
        for (long id = 1; id <= 3; id++) {
            assertEquals(List.of("via3"), c.appliedData(id));
        }
    }

    @Test
    void proposalWithoutLeaderIsDroppedWithClearError() {
        TestCluster c = TestCluster.of(3);
        RequestDroppedException e = assertThrows(RequestDroppedException.class,
                () -> c.node(1).propose(ByteString.copyFromUtf8("x")));
        assertTrue(e.getMessage().contains("no leader"), e.getMessage());
        assertTrue(c.node(1).status().lastIndex() == 0);
    }

    @Test
    void committedEntriesPerReadyAreBoundedInBytes() {
        TestCluster c = TestCluster.of(1, id -> TestCluster.defaults(id).maxCommittedSizePerReadyBytes(1000));
        c.tickAll(25);
        for (int i = 0; i < 10; i++) {
            c.node(1).propose(ByteString.copyFrom(new byte[300]));
        }
        int maxPerReady = 0;
        int total = 0;
        for (int i = 0; i < 100 && total < 10; i++) {
            RaftNode n = c.node(1);
            if (!n.hasReady()) {
                break;
            }
            Ready rd = n.ready();
            c.storages.get(1L).append(rd.entries());
            int normal = (int) rd.committedEntries().stream().filter(e -> e.getData().size() == 300).count();
            maxPerReady = Math.max(maxPerReady, normal);
            total += normal;
            n.advance();
        }
        assertEquals(10, total);
        assertTrue(maxPerReady <= 3, "up to ~1000 bytes per Ready, got " + maxPerReady + " entries");
    }

    @Test
    void uncommittedBytesAreBoundedAtTheLeader() {
        TestCluster c = TestCluster.of(3, id -> TestCluster.defaults(id).maxUncommittedEntriesBytes(1000));
        c.elect(1);
        c.isolate(1);
        c.node(1).propose(ByteString.copyFrom(new byte[600]));
        RequestDroppedException e = assertThrows(RequestDroppedException.class,
                () -> c.node(1).propose(ByteString.copyFrom(new byte[600])));
        assertTrue(e.getMessage().contains("uncommitted"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> c.node(1).propose(ByteString.copyFrom(new byte[1001])));
    }

    @Test
    void malformedMessagesAreRejectedAndChangeNothing() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        Status before = c.node(2).status();
        RaftNode n = c.node(2);
        assertThrows(IllegalArgumentException.class, () -> n.step(Message.newBuilder()
                .setType(MessageType.MSG_APP).setFrom(1).setTo(2).setIndex(5).build()));
        assertThrows(IllegalArgumentException.class, () -> n.step(Message.newBuilder()
                .setType(MessageType.MSG_HEARTBEAT).setFrom(0).setTo(2).setTerm(1).build()));
        assertThrows(IllegalArgumentException.class, () -> n.step(Message.newBuilder()
                .setType(MessageType.MSG_HEARTBEAT).setFrom(1).setTo(3).setTerm(1).build()));
        assertThrows(IllegalArgumentException.class, () -> n.step(Message.newBuilder()
                .setType(MessageType.MSG_UNKNOWN).setFrom(1).setTo(2).setTerm(1).build()));
        assertThrows(IllegalArgumentException.class, () -> n.step(Message.newBuilder()
                .setType(MessageType.MSG_PROPOSE).setFrom(3).setTo(2).build()));
        assertEquals(before, n.status());
        assertTrue(!n.hasReady());
    }

    @Test
    void inflightWindowIsAlsoBoundedInBytes() {
        TestCluster c = TestCluster.of(3, id -> TestCluster.defaults(id).maxEntriesPerAppend(1).maxInflightBytes(250));
        c.elect(1);
        c.dropFilter = m -> m.getType() == MessageType.MSG_APP_RESP && m.getFrom() == 2;
        c.delivered.clear();
        for (int i = 0; i < 6; i++) {
            c.node(1).propose(ByteString.copyFrom(new byte[100]));
        }
        c.stabilize();
        long toTwo = c.deliveredOfType(MessageType.MSG_APP).stream()
                .filter(m -> m.getTo() == 2 && m.getEntriesCount() > 0).count();
        assertEquals(3, toTwo, "100 + 100 < 250 allows a third append, which fills the window");
    }
}
