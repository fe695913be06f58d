package io.loomkv.core.raft.scenario;

import io.loomkv.core.raft.proto.ConfChange;
import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.sim.ConfChanges;
import io.loomkv.core.raft.sim.LabHarness;
import io.loomkv.core.raft.sim.SimOptions;
import io.loomkv.core.raft.sim.Simulator;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * Membership changes in the simulator: learners that catch up (by log or snapshot) and are
 * promoted, and joint consensus under partitions, including removing the leader and replacing a
 * node. Servers are numbered from 0 as in 6.824; node id = server + 1.
 */
class MembershipScenarioTest {

    private static final long FIVE_SECONDS_TICKS = Simulator.ticksForMillis(5_000);

    private static LabHarness cluster(TestInfo info, int servers, int voters, int snapshotInterval) {
        SimOptions options = SimOptions.of(servers, Scenarios.seed(info)).withVoterCount(voters)
                .withSnapshotIntervalEntries(snapshotInterval);
        return new LabHarness(Scenarios.simulator(info, options));
    }

    /** Proposes {@code change} at the leader until it is accepted, then waits until the leader applied a config matching {@code done}. */
    private static void changeMembership(LabHarness cfg, ConfChange change, Predicate<ConfState> done) {
        Simulator sim = cfg.sim();
        boolean accepted = false;
        for (int attempt = 0; attempt < 50 && !accepted; attempt++) {
            int leader = cfg.checkOneLeader();
            accepted = sim.proposeConfChange(leader + 1, change);
            if (!accepted) {
                sim.runMillis(100);
            }
        }
        if (!accepted) {
            throw sim.fail("no leader accepted conf change " + change.getChangesList());
        }
        if (!sim.runUntil(() -> leaderConf(cfg) != null && done.test(leaderConf(cfg)), FIVE_SECONDS_TICKS)) {
            throw sim.fail("conf change " + change.getChangesList() + " did not take effect; leader config "
                    + leaderConf(cfg));
        }
    }

    private static ConfState leaderConf(LabHarness cfg) {
        List<Integer> leaders = cfg.sim().leaders();
        return leaders.isEmpty() ? null : cfg.sim().node(leaders.get(leaders.size() - 1)).confState();
    }

    private static void awaitApplied(LabHarness cfg, int server, long index) {
        Simulator sim = cfg.sim();
        if (!sim.runUntil(() -> sim.node(server + 1).appliedIndex() >= index, FIVE_SECONDS_TICKS)) {
            throw sim.fail("server " + server + " applied only up to " + sim.node(server + 1).appliedIndex()
                    + ", expected " + index);
        }
    }

    /** A learner catches up through a snapshot, does not count toward the quorum, and is then promoted. */
    @Test
    void learnerCatchesUpAndIsPromoted(TestInfo info) {
        LabHarness cfg = cluster(info, 4, 3, LabHarness.SNAPSHOT_INTERVAL_ENTRIES);
        Simulator sim = cfg.sim();
        for (int i = 0; i < 25; i++) {
            cfg.one(i, 3, true);
        }
        changeMembership(cfg, ConfChanges.addLearner(4), conf -> conf.getLearnersList().contains(4L));
        long index = cfg.one(100, 3, true);
        awaitApplied(cfg, 3, index);
        if (sim.node(4).storage().snapshotMetadata().getIndex() == 0) {
            throw sim.fail("the learner should have caught up from a snapshot (the leader's log was compacted)");
        }
        // The learner does not count toward the quorum: with two voters away nothing commits.
        int leader = cfg.checkOneLeader();
        int away1 = (leader + 1) % 3;
        int away2 = (leader + 2) % 3;
        cfg.disconnect(away1);
        cfg.disconnect(away2);
        Simulator.Start start = cfg.start(leader, 101);
        if (!start.isLeader()) {
            throw sim.fail("leader " + leader + " rejected a proposal");
        }
        sim.runMillis(1_000);
        if (cfg.nCommitted(start.index()).nodes() > 0) {
            throw sim.fail("an entry committed with one voter and one learner");
        }
        cfg.connect(away1);
        cfg.connect(away2);
        changeMembership(cfg, ConfChanges.addVoter(4), conf -> conf.getVotersList().contains(4L)
                && !conf.getLearnersList().contains(4L));
        // The promoted node can lead.
        int current = cfg.checkOneLeader();
        sim.transferLeader(current + 1, 4);
        if (!sim.runUntil(() -> sim.isLeader(4), Simulator.ticksForMillis(1_000))) {
            throw sim.fail("the promoted voter did not take leadership by transfer");
        }
        cfg.one(102, 4, true);
    }

    /** Replacing a voter goes through a joint config; a partition that keeps a majority of both halves does not stop it. */
    @Test
    void replaceNodeDuringPartition(TestInfo info) {
        LabHarness cfg = cluster(info, 4, 3, 0);
        Simulator sim = cfg.sim();
        cfg.one(1, 3, false);
        int leader = cfg.checkOneLeader();
        int victim = (leader + 1) % 3;
        int other = (leader + 2) % 3;
        if (!sim.proposeConfChange(leader + 1, ConfChanges.replace(4, victim + 1))) {
            throw sim.fail("leader rejected the replacement");
        }
        // {leader, other} is a majority of both {1,2,3} and the new config.
        sim.network().partition(List.of(List.of(leader + 1, other + 1), List.of(victim + 1, 4)));
        if (!sim.runUntil(() -> {
            ConfState conf = sim.node(leader + 1).confState();
            return conf.getVotersOutgoingCount() == 0 && conf.getVotersList().contains(4L)
                    && !conf.getVotersList().contains((long) victim + 1);
        }, FIVE_SECONDS_TICKS)) {
            throw sim.fail("replacement did not complete: " + sim.node(leader + 1).confState());
        }
        sim.network().heal();
        long index = cfg.one(2, 3, true);
        awaitApplied(cfg, 3, index);
    }

    /** The leader removes itself: it leads until the change commits, then a remaining voter takes over. */
    @Test
    void removeTheLeader(TestInfo info) {
        LabHarness cfg = cluster(info, 3, 3, 0);
        Simulator sim = cfg.sim();
        cfg.one(1, 3, false);
        int leader = cfg.checkOneLeader();
        changeMembership(cfg, ConfChanges.remove(leader + 1), conf -> !conf.getVotersList().contains((long) leader + 1));
        int newLeader = cfg.checkOneLeader();
        if (newLeader == leader) {
            throw sim.fail("the removed leader " + leader + " still leads");
        }
        cfg.one(2, 2, true);
        if (sim.isLeader(leader + 1)) {
            throw sim.fail("the removed node " + leader + " claims leadership again");
        }
    }

    /** Replacing the leader itself through a joint config: the new config elects a new leader. */
    @Test
    void replaceTheLeader(TestInfo info) {
        LabHarness cfg = cluster(info, 4, 3, 0);
        Simulator sim = cfg.sim();
        cfg.one(1, 3, false);
        int leader = cfg.checkOneLeader();
        changeMembership(cfg, ConfChanges.replace(4, leader + 1),
                conf -> conf.getVotersOutgoingCount() == 0 && !conf.getVotersList().contains((long) leader + 1));
        cfg.checkOneLeader();
        long index = cfg.one(2, 3, true);
        awaitApplied(cfg, 3, index);
    }

    /**
     * An explicit joint config replacing two of three voters, partitioned so that one side holds a
     * majority of the old config and the other a majority of neither: nothing commits until the
     * partition heals; then the joint config is left and the new voters carry on.
     */
    @Test
    void jointConsensusBlocksWithoutBothMajorities(TestInfo info) {
        LabHarness cfg = cluster(info, 5, 3, 0);
        Simulator sim = cfg.sim();
        cfg.one(1, 3, false);
        int leader = cfg.checkOneLeader();
        int a = (leader + 1) % 3;
        int b = (leader + 2) % 3;
        ConfChange change = ConfChange.newBuilder(ConfChanges.replaceExplicit(4, a + 1))
                .addAllChanges(ConfChanges.replace(5, b + 1).getChangesList())
                .build();
        changeMembership(cfg, change, conf -> conf.getVotersOutgoingCount() > 0);
        int jointLeader = cfg.checkOneLeader();
        // Old voters on one side, the new ones on the other: no majority of the new config anywhere.
        sim.network().partition(List.of(List.of(leader + 1, a + 1, b + 1), List.of(4, 5)));
        Simulator.Start start = cfg.start(jointLeader, 2);
        if (!start.isLeader()) {
            throw sim.fail("joint-config leader " + jointLeader + " rejected a proposal");
        }
        sim.runMillis(2_000);
        if (cfg.nCommitted(start.index()).nodes() > 0) {
            throw sim.fail("an entry committed in the joint config without a majority of the new voters");
        }
        sim.network().heal();
        cfg.one(3, 3, true);
        changeMembership(cfg, ConfChanges.leaveJoint(), conf -> conf.getVotersOutgoingCount() == 0);
        ConfState conf = leaderConf(cfg);
        if (!conf.getVotersList().containsAll(List.of(4L, 5L)) || conf.getVotersList().contains((long) a + 1)
                || conf.getVotersList().contains((long) b + 1)) {
            throw sim.fail("unexpected final config " + conf);
        }
        long index = cfg.one(4, 3, true);
        awaitApplied(cfg, 3, index);
        awaitApplied(cfg, 4, index);
    }
}
