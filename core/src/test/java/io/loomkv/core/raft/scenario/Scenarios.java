package io.loomkv.core.raft.scenario;

import io.loomkv.core.raft.sim.LabHarness;
import io.loomkv.core.raft.sim.NetworkFaults;
import io.loomkv.core.raft.sim.SimOptions;
import io.loomkv.core.raft.sim.SimProperties;
import io.loomkv.core.raft.sim.Simulator;
import org.junit.jupiter.api.TestInfo;

/** Builds simulated clusters for scenario tests: seeded, replayable, with a replay hint naming the test. */
final class Scenarios {

    private Scenarios() {}

    /** The test's fixed seed (from its name), unless {@code -Dloomkv.sim.seed} asks for another. */
    static long seed(TestInfo info) {
        String name = info.getTestClass().map(Class::getName).orElse("") + "#" + info.getTestMethod().map(m -> m.getName()).orElse("");
        return SimProperties.seedOr(name.hashCode() & 0xffffffffL);
    }

    static String replayHint(TestInfo info) {
        return "-Dtest=" + info.getTestClass().map(Class::getSimpleName).orElse("?") + "#"
                + info.getTestMethod().map(m -> m.getName()).orElse("?");
    }

    static Simulator simulator(TestInfo info, SimOptions options) {
        return new Simulator(options, replayHint(info));
    }

    /** 6.824's {@code make_config(t, servers, unreliable, snapshot)}. */
    static LabHarness lab(TestInfo info, int servers, boolean unreliable, boolean snapshot) {
        SimOptions options = SimOptions.of(servers, seed(info));
        if (snapshot) {
            options = options.withSnapshotIntervalEntries(LabHarness.SNAPSHOT_INTERVAL_ENTRIES);
        }
        Simulator sim = simulator(info, options);
        sim.network().setFaults(unreliable ? NetworkFaults.UNRELIABLE : NetworkFaults.RELIABLE);
        return new LabHarness(sim);
    }
}
