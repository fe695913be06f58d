package io.loomkv.core.raft.scenario;

import io.loomkv.core.raft.sim.LabHarness;
import io.loomkv.core.raft.sim.SimOptions;
import io.loomkv.core.raft.sim.Simulator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * PreVote and CheckQuorum in the simulator. Each scenario also runs with the feature off and
 * shows the disruption the feature prevents, so the scenario is known to be able to fail.
 */
class PreVoteCheckQuorumScenarioTest {

    private static final long TWO_SECONDS_TICKS = Simulator.ticksForMillis(2_000);

    /** Runs the rejoin scenario; returns how much the leader's term rose after the cut-off follower came back. */
    private static long termRiseAfterRejoin(TestInfo info, boolean preVote) {
        SimOptions options = SimOptions.of(3, Scenarios.seed(info)).withPreVote(preVote).withCheckQuorum(false);
        LabHarness cfg = new LabHarness(Scenarios.simulator(info, options));
        cfg.one(1, 3, false);
        int leader = cfg.checkOneLeader();
        long term = cfg.term(leader);
        int cutOff = (leader + 1) % 3;
        cfg.disconnect(cutOff);
        cfg.sim().runTicks(TWO_SECONDS_TICKS);
        if (preVote && cfg.term(cutOff) != term) {
            throw cfg.sim().fail("with PreVote a cut-off node must not raise its term, but it went from " + term
                    + " to " + cfg.term(cutOff));
        }
        cfg.connect(cutOff);
        cfg.sim().runTicks(TWO_SECONDS_TICKS);
        cfg.one(2, 3, true);
        int leaderAfter = cfg.checkOneLeader();
        if (preVote && leaderAfter != leader) {
            throw cfg.sim().fail("with PreVote the healthy leader " + leader + " was replaced by " + leaderAfter);
        }
        return cfg.term(leaderAfter) - term;
    }

    /** A node that was cut off and comes back does not disturb a healthy leader. */
    @Test
    void PreVote(TestInfo info) {
        long rise = termRiseAfterRejoin(info, true);
        if (rise != 0) {
            throw new AssertionError("with PreVote the term rose by " + rise + " after a rejoin (seed "
                    + Scenarios.seed(info) + ")");
        }
    }

    /** Without PreVote the same rejoin forces an election: the scenario detects disruption. */
    @Test
    void PreVoteOffDisruptsLeader(TestInfo info) {
        long rise = termRiseAfterRejoin(info, false);
        if (rise <= 0) {
            throw new AssertionError("without PreVote the rejoining node should have raised the term (seed "
                    + Scenarios.seed(info) + ")");
        }
    }

    /**
     * Ticks until the isolated leader steps down, or -1. CheckQuorum checks once per election
     * timeout whether a quorum was heard from since the last check, so a leader steps down between
     * one and two election timeouts after it stops hearing from its followers.
     */
    private static long ticksUntilStepDown(TestInfo info, boolean checkQuorum, boolean oneWay) {
        SimOptions options = SimOptions.of(3, Scenarios.seed(info)).withCheckQuorum(checkQuorum);
        LabHarness cfg = new LabHarness(Scenarios.simulator(info, options));
        Simulator sim = cfg.sim();
        cfg.one(1, 3, false);
        int leader = cfg.checkOneLeader();
        if (oneWay) {
            // The leader still reaches its followers, but hears nothing back.
            for (int follower = 0; follower < 3; follower++) {
                if (follower != leader) {
                    sim.network().cut(follower + 1, leader + 1);
                }
            }
        } else {
            cfg.disconnect(leader);
        }
        long cutTick = sim.nowTick();
        boolean steppedDown = sim.runUntil(() -> !cfg.isLeader(leader), 5L * options.electionTimeoutTicks());
        return steppedDown ? sim.nowTick() - cutTick : -1;
    }

    /** A leader cut off from the quorum steps down within an election timeout of noticing (at most two after the cut). */
    @Test
    void CheckQuorum(TestInfo info) {
        long bound = 2L * SimOptions.DEFAULT_ELECTION_TIMEOUT_TICKS + 1;
        long ticks = ticksUntilStepDown(info, true, false);
        if (ticks < 0 || ticks > bound) {
            throw new AssertionError("isolated leader stepped down after " + ticks + " ticks, bound " + bound
                    + " (seed " + Scenarios.seed(info) + ")");
        }
    }

    /** The same when only the followers' replies are lost (a one-way cut). */
    @Test
    void CheckQuorumOneWayCut(TestInfo info) {
        long bound = 2L * SimOptions.DEFAULT_ELECTION_TIMEOUT_TICKS + 1;
        long ticks = ticksUntilStepDown(info, true, true);
        if (ticks < 0 || ticks > bound) {
            throw new AssertionError("deaf leader stepped down after " + ticks + " ticks, bound " + bound
                    + " (seed " + Scenarios.seed(info) + ")");
        }
    }

    /** Without CheckQuorum an isolated leader keeps believing it leads. */
    @Test
    void CheckQuorumOffKeepsStaleLeader(TestInfo info) {
        long ticks = ticksUntilStepDown(info, false, false);
        if (ticks >= 0) {
            throw new AssertionError("without CheckQuorum the isolated leader stepped down after " + ticks
                    + " ticks (seed " + Scenarios.seed(info) + ")");
        }
    }
}
