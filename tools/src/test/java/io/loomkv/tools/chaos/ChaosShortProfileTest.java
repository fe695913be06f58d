package io.loomkv.tools.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.lincheck.Verdict;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The short chaos profile of {@code ./loomkv test}: three real server processes behind the
 * fault-injecting proxies, two data groups (so slots can move between them), eight clients, every
 * fault kind at least once, then the full check. About 100 s of faults. {@code -Dloomkv.chaos.seed=S} replays a seed,
 * {@code -Dloomkv.chaos.duration=10m} runs longer, {@code -Dloomkv.chaos.nodes=5} uses five servers.
 */
class ChaosShortProfileTest {
    private static final long DEFAULT_SEED = 0xC4A05L;

    @Test
    void everyFaultKindUnderLoadKeepsTheHistoryLinearizableAndLosesNoAcknowledgedWrite() throws Exception {
        long seed = Long.getLong("loomkv.chaos.seed", DEFAULT_SEED);
        Duration duration = DurationText.parse(System.getProperty("loomkv.chaos.duration", "100s"));
        int nodes = Integer.getInteger("loomkv.chaos.nodes", 3);
        ChaosOptions options = new ChaosOptions(duration, seed, 8, 8, nodes, Path.of("target", "chaos-short-profile"), false,
                false, java.util.EnumSet.allOf(FaultKind.class), 2);
        System.out.println("ChaosShortProfileTest seed=" + seed + " (replay with -Dloomkv.chaos.seed=" + seed + ")");

        ChaosReport report = new ChaosRunner(options, System.out).run();

        System.out.println(report.json());
        report.findings().forEach(f -> System.out.println("finding: " + f));
        assertEquals(0, report.violations(), "violations: " + report.findings());
        assertEquals(0, report.lostAckedWrites(), "lost acknowledged writes: " + report.findings());
        assertEquals(Verdict.OK, report.verdict(), "checker verdict: " + report.findings());
        assertEquals(FaultKind.values().length, report.faultKinds(),
                "every fault kind must have been injected at least once, got " + report.faultKinds() + " kinds in "
                        + report.faults() + " faults");
        assertTrue(report.faults() >= FaultKind.values().length, "faults: " + report.faults());
        // A floor far below what a loaded 2-core machine does (thousands), but proof the clients ran through the faults.
        assertTrue(report.operations() >= 1_000, "operations: " + report.operations());
        assertEquals(0, report.exitCode());
    }
}
