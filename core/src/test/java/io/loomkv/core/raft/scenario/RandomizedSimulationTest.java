package io.loomkv.core.raft.scenario;

import io.loomkv.core.raft.sim.RandomRun;
import io.loomkv.core.raft.sim.SimProperties;
import org.junit.jupiter.api.Test;

/**
 * The randomized simulation: {@value #DEFAULT_SEEDS} seeds ({@code 1..N}) in the default test run,
 * each a short run of mixed faults, store crashes (in the middle of Readies and of fsyncs),
 * pauses and restarts, membership changes and leadership transfers over 1-4 groups per store,
 * run by the server's replica driver over a shared simulated WAL, with all invariants checked
 * after every step, ending in a heal and a convergence check of every group.
 *
 * <ul>
 *   <li>More seeds: {@code -Dloomkv.sim.seeds=100000} (seeds 1..N; {@code -Dloomkv.sim.firstSeed=F}
 *       starts elsewhere; {@code -Dloomkv.sim.chaosTicks=T} makes each seed longer).
 *   <li>Replay one seed with a trace: {@code -Dloomkv.sim.seed=S -Dloomkv.sim.trace=true}.
 * </ul>
 * A seed that ever fails becomes a named test in {@link RegressionSeedsTest}.
 */
class RandomizedSimulationTest {

    static final int DEFAULT_SEEDS = 2_000;

    private static final String REPLAY_HINT = "-Dtest=RandomizedSimulationTest";

    @Test
    void randomizedSeeds() {
        if (SimProperties.replaying()) {
            long seed = SimProperties.seedOr(0);
            RandomRun.Summary summary = RandomRun.run(seed, REPLAY_HINT, SimProperties.trace());
            System.out.println("replayed " + summary);
            return;
        }
        int seeds = SimProperties.seedsOr(DEFAULT_SEEDS);
        Totals totals = new Totals();
        long firstSeed = SimProperties.firstSeed();
        for (long seed = firstSeed; seed < firstSeed + seeds; seed++) {
            totals.add(RandomRun.run(seed, REPLAY_HINT, false));
        }
        // Guard against a run that silently stopped exercising anything.
        if (totals.proposals == 0 || totals.confChanges == 0 || totals.transfers == 0 || totals.crashes == 0
                || totals.reads == 0 || totals.multiGroupSeeds == 0 || totals.crashesDuringFsync == 0
                || totals.earlyOutput == 0 || totals.appliedAheadOfPersist == 0 || totals.pauses == 0) {
            throw new AssertionError("randomized runs exercised too little: " + totals);
        }
        System.out.println(seeds + " seeds: " + totals);
    }

    /** The sums over all seeds. */
    private static final class Totals {
        long ticks;
        long steps;
        long groups;
        long multiGroupSeeds;
        long proposals;
        long confChanges;
        long transfers;
        long crashes;
        long crashesDuringFsync;
        long pauses;
        long reads;
        long earlyOutput;
        long appliedAheadOfPersist;

        void add(RandomRun.Summary summary) {
            ticks += summary.ticks();
            steps += summary.steps();
            groups += summary.groups();
            multiGroupSeeds += summary.groups() > 1 ? 1 : 0;
            proposals += summary.proposals();
            confChanges += summary.confChanges();
            transfers += summary.transfers();
            crashes += summary.crashes();
            crashesDuringFsync += summary.crashesDuringFsync();
            pauses += summary.pauses();
            reads += summary.readsConfirmed();
            earlyOutput += summary.earlyOutput();
            appliedAheadOfPersist += summary.appliedAheadOfPersist();
        }

        @Override
        public String toString() {
            return ticks + " ticks, " + steps + " steps, " + groups + " groups (" + multiGroupSeeds
                    + " seeds with more than one), " + proposals + " proposals, " + confChanges + " conf changes, "
                    + transfers + " transfers, " + crashes + " store crashes (" + crashesDuringFsync
                    + " during an fsync), " + pauses + " pauses, " + reads + " reads confirmed, " + earlyOutput
                    + " early outputs, " + appliedAheadOfPersist + " applies ahead of the own persist";
        }
    }
}
