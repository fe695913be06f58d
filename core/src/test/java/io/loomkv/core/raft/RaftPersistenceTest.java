package io.loomkv.core.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.proto.HardState;
import io.loomkv.core.raft.proto.Message;
import io.loomkv.core.raft.proto.MessageType;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Restart correctness: what was persisted survives, what was not is lost safely. */
class RaftPersistenceTest {

    @Test
    void restartedNodeKeepsTermVoteAndLog() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        c.propose(1, "a");
        c.propose(1, "b");
        long lastIndex = c.node(2).status().lastIndex();
        c.crash(2);
        c.restart(2);
        Status s = c.node(2).status();
        assertEquals(1, s.term());
        assertEquals(1, s.vote());
        assertEquals(lastIndex, s.lastIndex());
        // Committed entries are replayed to the restarted state machine.
        c.stabilize();
        assertEquals(List.of("a", "b"), c.appliedData(2));
    }

    @Test
    void restartedVoterDoesNotVoteTwiceInATerm() {
        TestCluster c = TestCluster.of(3);
        c.isolate(1);
        c.node(2).campaign();
        c.stabilize();
        // 3 voted for 2 in term 1 and persisted it; after a restart it must refuse 1 in term 1.
        c.crash(3);
        c.restart(3);
        assertEquals(2, c.node(3).status().vote());
        c.heal();
        c.cut(1, 2);
        c.node(3).step(Message.newBuilder().setType(MessageType.MSG_VOTE).setFrom(1).setTo(3).setTerm(1)
                .setIndex(10).setLogTerm(1).build());
        Ready rd = c.node(3).ready();
        assertTrue(rd.messagesAfterPersist().get(0).getReject());
        c.node(3).advance();
    }

    @Test
    void unpersistedEntriesAreLostOnCrashButCommittedOnesSurvive() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        c.propose(1, "committed");
        // The leader takes a proposal but crashes before handling its Ready.
        c.node(1).propose(ByteString.copyFromUtf8("lost"));
        c.crash(1);
        c.tickAll(40);
        long leader = c.leader();
        assertTrue(leader == 2 || leader == 3);
        c.restart(1);
        c.tickAll(5);
        for (long id = 1; id <= 3; id++) {
            assertEquals(List.of("committed"), c.appliedData(id), "node " + id);
        }
    }

    @Test
    void restartFromSnapshotPlusLogRestoresStateAndMembership() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        for (int i = 0; i < 5; i++) {
            c.propose(1, "s" + i + ";");
        }
        SnapshotMetadata meta = c.snapshotAndCompact(2);
        c.propose(1, "tail;");
        ByteString before = c.stateMachine.get(2L);
        c.crash(2);
        c.restart(2);
        Status s = c.node(2).status();
        assertEquals(meta.getIndex(), s.appliedIndex(), "applied starts at the snapshot");
        assertEquals(List.of(1L, 2L, 3L), s.confState().getVotersList());
        c.stabilize();
        assertEquals(before, c.stateMachine.get(2L));
        // And it keeps working as a member.
        c.propose(1, "later;");
        assertEquals(c.stateMachine.get(1L), c.stateMachine.get(2L));
    }

    @Test
    void restartWithAppliedIndexDoesNotReapplyEntries() {
        TestCluster c = TestCluster.of(1);
        c.tickAll(25);
        c.propose(1, "x");
        long applied = c.node(1).status().appliedIndex();
        RaftNode restarted = new RaftNode(c.configs.get(1L).toBuilder().appliedIndex(applied).build(), c.storages.get(1L));
        assertEquals(applied, restarted.status().appliedIndex());
        assertTrue(!restarted.hasReady() || restarted.ready().committedEntries().isEmpty());
    }

    @Test
    void hardStateWithCommitBeyondTheLogIsRefused() {
        MemoryStorage s = MemoryStorage.bootstrap(List.of(1L));
        s.setHardState(HardState.newBuilder().setTerm(1).setCommit(5).build());
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new RaftNode(TestCluster.defaults(1).build(), s));
        assertTrue(e.getMessage().contains("commit 5"), e.getMessage());
    }
}
