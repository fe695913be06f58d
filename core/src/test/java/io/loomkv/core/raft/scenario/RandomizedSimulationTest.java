package io.loomkv.core.raft.scenario;

import io.loomkv.core.raft.sim.RandomRun;
import io.loomkv.core.raft.sim.SimProperties;
import org.junit.jupiter.api.Test;

/**
 * The randomized simulation: {@value #DEFAULT_SEEDS} seeds ({@code 1..N}) in the default test run,
 * each a short run of mixed faults, crashes and restarts, membership changes and leadership
 * transfers with all invariants checked after every step, ending in a heal and a convergence
 * check.
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
        long ticks = 0;
        long steps = 0;
        long proposals = 0;
        long confChanges = 0;
        long transfers = 0;
        long crashes = 0;
        long reads = 0;
        long firstSeed = SimProperties.firstSeed();
        for (long seed = firstSeed; seed < firstSeed + seeds; seed++) {
            RandomRun.Summary summary = RandomRun.run(seed, REPLAY_HINT, false);
            ticks += summary.ticks();
            steps += summary.steps();
            proposals += summary.proposals();
            confChanges += summary.confChanges();
            transfers += summary.transfers();
            crashes += summary.crashes();
            reads += summary.readsConfirmed();
        }
        // Guard against a run that silently stopped exercising anything.
        if (proposals == 0 || confChanges == 0 || transfers == 0 || crashes == 0 || reads == 0) {
            throw new AssertionError("randomized runs exercised too little: " + proposals + " proposals, "
                    + confChanges + " conf changes, " + transfers + " transfers, " + crashes + " crashes, " + reads + " reads");
        }
        System.out.println(seeds + " seeds: " + ticks + " ticks, " + steps + " steps, " + proposals + " proposals, "
                + confChanges + " conf changes, " + transfers + " transfers, " + crashes + " crashes, " + reads
                + " reads confirmed");
    }
}
