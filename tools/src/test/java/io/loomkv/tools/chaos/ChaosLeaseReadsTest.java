package io.loomkv.tools.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.lincheck.Verdict;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;

/**
 * LEASE reads stay linearizable when a leader freezes (SIGSTOP) while cut off, the others elect a
 * new leader and take writes, and the old one wakes up still believing it leads, with clients
 * that keep asking it. Before the Raft loop handed the time of a pause to the core as ticks, this
 * exact run (seed 12) served stale reads: the checker found them in every such run.
 */
class ChaosLeaseReadsTest {
    private static final long SEED = 12;

    @Test
    void aLeaderWakingFromAPauseCutOffServesNoStaleLeaseRead() throws Exception {
        ChaosOptions options = new ChaosOptions(Duration.ofSeconds(30), SEED, 8, 8, 3, Path.of("target", "chaos-lease-reads"),
                false, true, EnumSet.of(FaultKind.PAUSE_LEADER_WAKE_ISOLATED));

        ChaosReport report = new ChaosRunner(options, System.out).run();

        System.out.println(report.json());
        assertEquals(Verdict.OK, report.verdict(), "findings: " + report.findings());
        assertEquals(0, report.violations(), "findings: " + report.findings());
        assertEquals(0, report.lostAckedWrites(), "findings: " + report.findings());
        assertTrue(report.faults() >= 3, "the paused leader must have woken up cut off a few times, got " + report.faults());
    }
}
