package io.loomkv.core.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.raft.proto.MessageType;
import org.junit.jupiter.api.Test;

/** PreVote (Raft thesis 9.6) and CheckQuorum (6.2). */
class RaftCheckQuorumPreVoteTest {

    private static TestCluster cluster(boolean preVote, boolean checkQuorum) {
        return TestCluster.of(3, id -> TestCluster.defaults(id).preVote(preVote).checkQuorum(checkQuorum));
    }

    @Test
    void leaderWithoutQuorumStepsDownAfterElectionTimeout() {
        TestCluster c = cluster(false, true);
        c.elect(1);
        c.isolate(1);
        for (int i = 0; i < 25; i++) {
            c.tick(1);
            c.stabilize();
        }
        assertEquals(Role.FOLLOWER, c.node(1).softState().role());
    }

    @Test
    void leaderWithoutCheckQuorumStaysLeaderWhenIsolated() {
        TestCluster c = cluster(false, false);
        c.elect(1);
        c.isolate(1);
        for (int i = 0; i < 25; i++) {
            c.tick(1);
            c.stabilize();
        }
        assertEquals(Role.LEADER, c.node(1).softState().role());
    }

    @Test
    void leaderWithQuorumStaysLeader() {
        TestCluster c = cluster(false, true);
        c.elect(1);
        c.crash(3);
        c.tickAll(50);
        assertEquals(1, c.leader());
        assertEquals(1, c.node(1).status().term());
    }

    @Test
    void rejoiningNodeWithPreVoteDoesNotDisruptHealthyLeader() {
        TestCluster c = cluster(true, false);
        c.elect(1);
        c.isolate(3);
        for (int i = 0; i < 50; i++) {
            c.tick(3);
            c.stabilize();
        }
        // Pre-votes failed, so its term never rose.
        assertEquals(1, c.node(3).status().term());
        assertEquals(Role.PRE_CANDIDATE, c.node(3).softState().role());
        c.heal();
        c.tickAll(30);
        assertEquals(1, c.leader());
        assertEquals(1, c.node(1).status().term());
        assertEquals(1, c.node(3).softState().leaderId());
    }

    @Test
    void rejoiningNodeWithoutPreVoteDisruptsTheLeader() {
        TestCluster c = cluster(false, false);
        c.elect(1);
        c.isolate(3);
        for (int i = 0; i < 50; i++) {
            c.tick(3);
            c.stabilize();
        }
        long termWhileCut = c.node(3).status().term();
        assertTrue(termWhileCut > 1);
        c.heal();
        c.tickAll(30);
        assertTrue(c.node(1).status().term() >= termWhileCut, "the higher term forced a new election");
    }

    @Test
    void preVoteWinsWhenLeaderIsReallyGoneThenRaisesTerm() {
        TestCluster c = cluster(true, true);
        c.elect(1);
        c.crash(1);
        c.tickAll(40);
        long leader = c.leader();
        assertTrue(leader == 2 || leader == 3);
        assertEquals(2, c.node(leader).status().term(), "one real election after the pre-vote");
        assertTrue(!c.deliveredOfType(MessageType.MSG_PRE_VOTE).isEmpty());
    }

    @Test
    void preVoteIsRefusedByNodeWithNewerLog() {
        TestCluster c = cluster(true, false);
        c.elect(1);
        c.isolate(3);
        c.propose(1, "x");
        c.heal();
        c.isolate(1);
        c.node(3).campaign();
        c.stabilize();
        // 2 has "x" and 3 does not: 3's pre-vote fails, and no one's term moved.
        assertTrue(c.node(3).softState().role() != Role.LEADER);
        assertEquals(1, c.node(2).status().term());
        assertEquals(1, c.node(3).status().term());
    }

    @Test
    void staleLeaderLearnsNewTermFromRejectedAppendAndStepsDown() {
        TestCluster c = cluster(true, true);
        c.elect(1);
        c.isolate(1);
        c.tickAll(40);
        long leader = c.leader();
        // With 1 isolated, 1 stepped down (CheckQuorum) and 2 or 3 leads a higher term.
        assertTrue(leader == 2 || leader == 3, "leader " + leader);
        c.heal();
        c.tickAll(5);
        assertEquals(leader, c.leader());
        assertEquals(leader, c.node(1).softState().leaderId());
        assertEquals(c.node(leader).status().term(), c.node(1).status().term());
    }

    @Test
    void staleLeaderHearsTheHigherTermFromItsHeartbeatEvenWithoutPreVoteOrCheckQuorum() {
        TestCluster c = cluster(false, false);
        c.elect(1);
        c.isolate(3);
        for (int i = 0; i < 30; i++) {
            c.tick(3);
            c.stabilize();
        }
        long term3 = c.node(3).status().term();
        assertTrue(term3 > 1);
        // Only the leader's heartbeat reaches 3 (as when 3's stale membership does not list the
        // leader, so its vote requests never reach it): the reply carries 3's term.
        c.heal();
        c.cut(3, 2);
        c.dropFilter = m -> m.getFrom() == 3 && m.getType() != MessageType.MSG_APP_RESP;
        c.tick(1);
        c.stabilize();
        assertTrue(c.deliveredOfType(MessageType.MSG_APP_RESP).stream()
                .anyMatch(m -> m.getFrom() == 3 && m.getTerm() == term3));
        assertEquals(Role.FOLLOWER, c.node(1).softState().role());
        assertEquals(term3, c.node(1).status().term());
    }
}
