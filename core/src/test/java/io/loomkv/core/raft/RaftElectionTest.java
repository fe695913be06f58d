package io.loomkv.core.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.raft.proto.Message;
import io.loomkv.core.raft.proto.MessageType;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Raft paper section 5.2 (leader election), one test per rule. */
class RaftElectionTest {

    private static int ticksUntilCampaign(RaftConfig config) {
        RaftNode n = new RaftNode(config, MemoryStorage.bootstrap(List.of(1L, 2L, 3L)));
        for (int t = 1; t <= 1000; t++) {
            n.tick();
            if (n.softState().role() != Role.FOLLOWER) {
                return t;
            }
        }
        throw new AssertionError("never campaigned");
    }

    @Test
    void followerStartsElectionAfterRandomizedTimeoutWithinOneToTwoTimeouts() {
        List<Integer> seen = new ArrayList<>();
        for (long seed = 0; seed < 50; seed++) {
            int t = ticksUntilCampaign(TestCluster.defaults(1).randomSeed(seed).build());
            assertTrue(t >= 10 && t < 20, "campaign after " + t + " ticks, expected [10, 20)");
            seen.add(t);
        }
        assertTrue(seen.stream().distinct().count() > 3, "timeouts are not randomized: " + seen);
    }

    @Test
    void sameSeedGivesSameTimeoutAndNodesWithSameSeedDiffer() {
        int a = ticksUntilCampaign(TestCluster.defaults(1).randomSeed(7).build());
        int b = ticksUntilCampaign(TestCluster.defaults(1).randomSeed(7).build());
        assertEquals(a, b);
        List<Integer> perNode = new ArrayList<>();
        for (long id = 1; id <= 8; id++) {
            RaftNode n = new RaftNode(TestCluster.defaults(id).randomSeed(7).build(),
                    MemoryStorage.bootstrap(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L)));
            int t = 0;
            while (n.softState().role() == Role.FOLLOWER) {
                n.tick();
                t++;
            }
            perNode.add(t);
        }
        assertTrue(perNode.stream().distinct().count() > 1, "all nodes time out together: " + perNode);
    }

    @Test
    void candidateWinsElectionWithVotesFromMajority() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        assertEquals(1, c.leader());
        for (long id = 1; id <= 3; id++) {
            assertEquals(1, c.node(id).status().term());
            assertEquals(1, c.node(id).softState().leaderId());
        }
    }

    @Test
    void candidateWithoutQuorumStaysCandidateAndRetriesInNewTerm() {
        TestCluster c = TestCluster.of(3);
        c.isolate(1);
        c.elect(1);
        assertEquals(Role.CANDIDATE, c.node(1).softState().role());
        assertEquals(1, c.node(1).status().term());
        for (int i = 0; i < 20; i++) {
            c.tick(1);
            c.stabilize();
        }
        assertEquals(Role.CANDIDATE, c.node(1).softState().role());
        assertTrue(c.node(1).status().term() >= 2, "term " + c.node(1).status().term());
    }

    @Test
    void eachServerVotesForAtMostOneCandidatePerTerm() {
        TestCluster c = TestCluster.of(3);
        c.cut(1, 2);
        // 1 and 2 both campaign in term 1; 3 sees 1's request first and must refuse 2.
        c.node(1).campaign();
        c.node(2).campaign();
        c.stabilize();
        assertEquals(1, c.node(3).status().vote());
        assertEquals(1, c.leader());
        assertEquals(Role.CANDIDATE, c.node(2).softState().role());
        long granted = c.deliveredOfType(MessageType.MSG_VOTE_RESP).stream()
                .filter(m -> m.getFrom() == 3 && !m.getReject()).count();
        assertEquals(1, granted);
    }

    @Test
    void voterDeniesVoteToCandidateWithLessUpToDateLog() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        c.isolate(3);
        c.propose(1, "x");
        c.heal();
        // 3 missed "x": its log is behind, so 1 and 2 refuse it even in a higher term.
        c.elect(3);
        assertNotEquals(3, c.leader());
        assertTrue(c.deliveredOfType(MessageType.MSG_VOTE_RESP).stream()
                .filter(m -> m.getTo() == 3).allMatch(Message::getReject));
    }

    @Test
    void leaderSendsHeartbeatsEveryHeartbeatInterval() {
        TestCluster c = TestCluster.of(3, id -> TestCluster.defaults(id).heartbeatTicks(2));
        c.elect(1);
        int before = c.deliveredOfType(MessageType.MSG_HEARTBEAT).size();
        c.tickAll(4);
        int after = c.deliveredOfType(MessageType.MSG_HEARTBEAT).size();
        assertEquals(4, after - before, "2 rounds x 2 followers");
    }

    @Test
    void followerThatHearsNoHeartbeatElectsNewLeader() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        c.crash(1);
        c.tickAll(40);
        long leader = c.leader();
        assertTrue(leader == 2 || leader == 3, "leader " + leader);
        assertTrue(c.node(leader).status().term() >= 2);
    }

    @Test
    void singleNodeElectsItselfAndCommits() {
        TestCluster c = TestCluster.of(1);
        c.tickAll(25);
        assertEquals(1, c.leader());
        c.propose(1, "a");
        assertEquals(List.of("a"), c.appliedData(1));
    }

    @Test
    void voteResponsesWaitForPersistAndCandidateRequestsToo() {
        TestCluster c = TestCluster.of(3);
        c.node(1).campaign();
        Ready rd = c.node(1).ready();
        assertTrue(rd.messagesBeforePersist().isEmpty());
        assertEquals(2, rd.messagesAfterPersist().size());
        assertTrue(rd.mustSync(), "term and vote changed");
        assertEquals(1, rd.hardState().getVote());
        c.node(1).advance();
        c.node(2).step(rd.messagesAfterPersist().get(0));
        Ready r2 = c.node(2).ready();
        assertTrue(r2.messagesBeforePersist().isEmpty());
        assertEquals(MessageType.MSG_VOTE_RESP, r2.messagesAfterPersist().get(0).getType());
        assertEquals(1, r2.hardState().getVote(), "the vote is persisted with the response");
        c.node(2).advance();
    }

    @Test
    void rejectedByMajorityCandidateBecomesFollower() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        c.propose(1, "x");
        c.isolate(3);
        c.propose(1, "y");
        c.heal();
        c.elect(3);
        // 3 lost: both others refused (stale log) and it fell back to follower.
        assertEquals(Role.FOLLOWER, c.node(3).softState().role());
        assertFalse(c.leader() == 3);
    }
}
