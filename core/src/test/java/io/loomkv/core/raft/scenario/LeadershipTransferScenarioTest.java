package io.loomkv.core.raft.scenario;

import io.loomkv.core.raft.sim.LabHarness;
import io.loomkv.core.raft.sim.SimOptions;
import io.loomkv.core.raft.sim.Simulator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/** Leadership transfer in the simulator: catch the target up, then TimeoutNow; abort if it cannot finish. */
class LeadershipTransferScenarioTest {

    private static final long ONE_SECOND_TICKS = Simulator.ticksForMillis(1_000);

    private static LabHarness cluster(TestInfo info, int servers) {
        return new LabHarness(Scenarios.simulator(info, SimOptions.of(servers, Scenarios.seed(info))));
    }

    @Test
    void transferToUpToDateFollower(TestInfo info) {
        LabHarness cfg = cluster(info, 3);
        Simulator sim = cfg.sim();
        cfg.one(1, 3, false);
        int leader = cfg.checkOneLeader();
        long term = cfg.term(leader);
        int target = (leader + 1) % 3;
        sim.transferLeader(leader + 1, target + 1);
        if (!sim.runUntil(() -> cfg.isLeader(target), ONE_SECOND_TICKS)) {
            throw sim.fail("transfer from " + leader + " to " + target + " did not finish within 1 s");
        }
        if (cfg.term(target) != term + 1) {
            throw sim.fail("a transfer is one election: term " + term + " became " + cfg.term(target));
        }
        cfg.one(2, 3, false);
    }

    /** A target that missed entries is caught up before it gets TimeoutNow, so no committed entry is lost. */
    @Test
    void transferToLaggingFollower(TestInfo info) {
        LabHarness cfg = cluster(info, 5);
        Simulator sim = cfg.sim();
        cfg.one(1, 5, false);
        int leader = cfg.checkOneLeader();
        int target = (leader + 1) % 5;
        cfg.disconnect(target);
        for (int i = 0; i < 30; i++) {
            cfg.one(100 + i, 4, false);
        }
        long committed = sim.highestAppliedIndex();
        cfg.connect(target);
        sim.transferLeader(leader + 1, target + 1);
        if (!sim.runUntil(() -> cfg.isLeader(target), ONE_SECOND_TICKS)) {
            throw sim.fail("transfer to the lagging follower " + target + " did not finish within 1 s");
        }
        if (sim.node(target + 1).storage().lastIndex() < committed) {
            throw sim.fail("new leader " + target + " lacks committed entries up to " + committed);
        }
        cfg.one(200, 5, false);
    }

    /** A transfer to an unreachable node is abandoned after an election timeout; the old leader serves again. */
    @Test
    void transferToUnreachableNodeIsAborted(TestInfo info) {
        LabHarness cfg = cluster(info, 3);
        Simulator sim = cfg.sim();
        cfg.one(1, 3, false);
        int leader = cfg.checkOneLeader();
        long term = cfg.term(leader);
        int target = (leader + 1) % 3;
        cfg.disconnect(target);
        sim.transferLeader(leader + 1, target + 1);
        if (cfg.start(leader, 2).isLeader()) {
            throw sim.fail("leader " + leader + " accepted a proposal while transferring leadership");
        }
        sim.runTicks(3L * sim.options().electionTimeoutTicks());
        if (!cfg.isLeader(leader) || cfg.term(leader) != term) {
            throw sim.fail("after an aborted transfer " + leader + " should still lead term " + term);
        }
        cfg.one(3, 2, false);
    }

    /** Transfers back and forth under an unreliable network never break safety and end with a working leader. */
    @Test
    void repeatedTransfersUnderUnreliableNetwork(TestInfo info) {
        LabHarness cfg = cluster(info, 5);
        Simulator sim = cfg.sim();
        cfg.setUnreliable(true);
        cfg.one(1, 1, true);
        for (int i = 0; i < 20; i++) {
            int leader = cfg.checkOneLeader();
            int target = sim.random().nextInt(5);
            sim.transferLeader(leader + 1, target + 1);
            cfg.one(10 + i, 1, true);
        }
        cfg.setUnreliable(false);
        cfg.one(99, 5, true);
    }
}
