package io.loomkv.tools.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.lincheck.Verdict;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Chaos against a sharded cluster: three servers hosting 4 data groups, so every kill or pause of
 * a server hits all its groups at once, and the faults aimed at "the leader" take the server
 * leading the most groups. The kinds are those whose target or check depends on groups: the
 * leader's kill, freeze and isolation, a membership change and a leadership transfer of one
 * group, and a torn WAL shared by all groups of a server. The 8 keys of each key generation land in
 * all four groups (r0.0 in group 4, r1.0 in 1, r2.0 in 2, r3.0 in 3, ...). About 45-60 s; the history is checked per
 * key as with one group, and every member's own replicas must agree at the end.
 * {@code -Dloomkv.chaos.seed=S} replays a seed.
 */
class ChaosGroupsTest {
    private static final long DEFAULT_SEED = 7;
    private static final Set<FaultKind> KINDS = EnumSet.of(FaultKind.KILL_LEADER, FaultKind.PAUSE_LEADER_WAKE_ISOLATED,
            FaultKind.PARTITION_LEADER_ISOLATED, FaultKind.MEMBER_CHANGE, FaultKind.TRANSFER_LEADER, FaultKind.TORN_WAL_RESTART);

    @Test
    void faultsOnServersOfFourGroupsKeepEveryGroupLinearizableAndLoseNoAcknowledgedWrite() throws Exception {
        long seed = Long.getLong("loomkv.chaos.seed", DEFAULT_SEED);
        ChaosOptions options = new ChaosOptions(Duration.ofSeconds(20), seed, 8, 8, 3, Path.of("target", "chaos-groups"),
                false, false, KINDS, 4);
        System.out.println("ChaosGroupsTest seed=" + seed + " (replay with -Dloomkv.chaos.seed=" + seed + ")");

        ChaosReport report = new ChaosRunner(options, System.out).run();

        System.out.println(report.json());
        report.findings().forEach(f -> System.out.println("finding: " + f));
        assertEquals(0, report.violations(), "violations: " + report.findings());
        assertEquals(0, report.lostAckedWrites(), "lost acknowledged writes: " + report.findings());
        assertEquals(Verdict.OK, report.verdict(), "checker verdict: " + report.findings());
        assertEquals(KINDS.size(), report.faultKinds(), "every chosen kind must have been injected, got " + report.faultKinds()
                + " kinds in " + report.faults() + " faults");
        assertTrue(report.operations() >= 1_000, "operations: " + report.operations());
        assertEquals(0, report.exitCode());
    }
}
