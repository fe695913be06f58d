package io.loomkv.core.raft.scenario;

import io.loomkv.core.raft.sim.LabHarness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * MIT 6.824 Raft lab 2A (leader election), ported scenario by scenario onto the simulator. Method
 * names are the lab's test names. A leader must appear within 1 s of simulated time whenever one is
 * expected.
 */
class Lab2AElectionTest {

    private static final long ELECTION_TIMEOUT_MILLIS = LabHarness.ELECTION_TIMEOUT_MILLIS;

    @Test
    void InitialElection(TestInfo info) {
        LabHarness cfg = Scenarios.lab(info, 3, false, false);
        cfg.checkOneLeader();
        // Let followers learn of the election, then all must agree on the term.
        cfg.sleepMillis(50);
        long term1 = cfg.checkTerms();
        if (term1 < 1) {
            throw cfg.sim().fail("term is " + term1 + ", but should be at least 1");
        }
        // Without failures the leader and term stay the same.
        cfg.sleepMillis(2 * ELECTION_TIMEOUT_MILLIS);
        long term2 = cfg.checkTerms();
        if (term1 != term2) {
            throw cfg.sim().fail("term changed from " + term1 + " to " + term2 + " even though there were no failures");
        }
        cfg.checkOneLeader();
    }

    @Test
    void ReElection(TestInfo info) {
        LabHarness cfg = Scenarios.lab(info, 3, false, false);
        int servers = cfg.servers();
        int leader1 = cfg.checkOneLeader();
        // If the leader disconnects, a new one should be elected.
        cfg.disconnect(leader1);
        cfg.checkOneLeader();
        // If the old leader rejoins, that shouldn't disturb the new leader.
        cfg.connect(leader1);
        int leader2 = cfg.checkOneLeader();
        // Without a quorum, no leader should be elected.
        cfg.disconnect(leader2);
        cfg.disconnect((leader2 + 1) % servers);
        cfg.sleepMillis(2 * ELECTION_TIMEOUT_MILLIS);
        cfg.checkNoLeader();
        // If a quorum arises, it should elect a leader.
        cfg.connect((leader2 + 1) % servers);
        cfg.checkOneLeader();
        // Re-joining the last node shouldn't prevent a leader from existing.
        cfg.connect(leader2);
        cfg.checkOneLeader();
    }

    @Test
    void ManyElections(TestInfo info) {
        LabHarness cfg = Scenarios.lab(info, 7, false, false);
        int servers = cfg.servers();
        cfg.checkOneLeader();
        for (int iteration = 1; iteration < 10; iteration++) {
            // Disconnect three nodes (possibly fewer, if the random picks repeat).
            int i1 = cfg.sim().random().nextInt(servers);
            int i2 = cfg.sim().random().nextInt(servers);
            int i3 = cfg.sim().random().nextInt(servers);
            cfg.disconnect(i1);
            cfg.disconnect(i2);
            cfg.disconnect(i3);
            // Either the current leader is still alive, or the remaining four elect a new one.
            cfg.checkOneLeader();
            cfg.connect(i1);
            cfg.connect(i2);
            cfg.connect(i3);
        }
        cfg.checkOneLeader();
    }
}
