package io.loomkv.tools.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.lincheck.KvInput;
import io.loomkv.core.lincheck.KvOutput;
import io.loomkv.core.lincheck.Operation;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The small parts of a chaos run: schedule, append audit, unavailability, key set, durations, report. */
class ChaosPiecesTest {
    @Test
    void theScheduleIsSeededAndEveryRoundHasEveryFaultKindOnce() {
        List<FaultStep> schedule = FaultSchedule.generate(7, 200_000);
        assertEquals(schedule, FaultSchedule.generate(7, 200_000));
        assertTrue(!schedule.equals(FaultSchedule.generate(8, 200_000)));
        int kinds = FaultKind.values().length;
        for (int round = 0; round + kinds <= schedule.size(); round += kinds) {
            Set<FaultKind> seen = EnumSet.noneOf(FaultKind.class);
            schedule.subList(round, round + kinds).forEach(step -> seen.add(step.kind()));
            assertEquals(EnumSet.allOf(FaultKind.class), seen, "round starting at step " + (round + 1));
        }
        for (FaultStep step : schedule) {
            assertTrue(step.holdMillis() >= FaultSchedule.MIN_HOLD_MILLIS && step.holdMillis() <= FaultSchedule.MAX_HOLD_MILLIS);
            assertTrue(step.quietMillis() >= FaultSchedule.MIN_QUIET_MILLIS && step.quietMillis() <= FaultSchedule.MAX_QUIET_MILLIS);
        }
        assertTrue(schedule.size() * (FaultSchedule.MIN_HOLD_MILLIS + FaultSchedule.MIN_QUIET_MILLIS) >= 200_000,
                "enough steps even if each takes its minimum");
    }

    @Test
    void theAppendAuditFindsLostDuplicatedAndInventedAppends() {
        List<String> keys = List.of("r0.0", "l0");
        List<Operation<KvInput, KvOutput>> history = List.of(
                Operation.completed(1, new KvInput.Append("l0", "c1.1;"), 0, KvOutput.OK, 10),
                Operation.completed(2, new KvInput.Append("l0", "c2.1;"), 5, KvOutput.OK, 15),
                Operation.pending(3, new KvInput.Append("l0", "c3.1;"), 6));

        AppendAudit.Result clean = AppendAudit.audit(history, Map.of("l0", "c2.1;c1.1;c3.1;"), keys);
        assertEquals(List.of(2L, 0L, 0L, 0L), List.of(clean.acknowledged(), clean.lost(), clean.duplicated(), clean.unknownTokens()));
        assertEquals(0, AppendAudit.audit(history, Map.of("l0", "c1.1;c2.1;"), keys).lost(), "an unknown outcome may be missing");

        AppendAudit.Result lost = AppendAudit.audit(history, Map.of("l0", "c1.1;c3.1;"), keys);
        assertEquals(1, lost.lost());
        assertTrue(lost.findings().get(0).contains("c2.1"), lost.findings().toString());
        assertEquals(1, AppendAudit.audit(history, Map.of("l0", "c1.1;c2.1;c1.1;"), keys).duplicated());
        assertEquals(1, AppendAudit.audit(history, Map.of("l0", "c1.1;c2.1;c9.9;"), keys).unknownTokens());
        assertEquals(2, AppendAudit.audit(history, Map.of(), keys).lost(), "a log that vanished lost everything");
    }

    @Test
    void unavailabilityIsTheLongestStretchWithoutAnAnswerIncludingBothEnds() {
        ChaosHistory history = new ChaosHistory();
        long ms = 1_000_000;
        history.completed(1, new KvInput.Get("r0"), 0, KvOutput.Value.absent(), 100 * ms);
        history.completed(1, new KvInput.Get("r0"), 0, KvOutput.Value.absent(), 150 * ms);
        history.completed(1, new KvInput.Get("r0"), 0, KvOutput.Value.absent(), 900 * ms);
        history.unknown(2, new KvInput.Put("r0", "x"), 200 * ms);
        assertEquals(750, history.longestSilenceMillis(0, 1_000 * ms));
        assertEquals(1_100, history.longestSilenceMillis(0, 2_000 * ms), "silence up to the end of the load counts");
        assertEquals(List.of(3L, 1L), List.of(history.answered(), history.unknown()));
        assertEquals(List.of("r0"), history.keys());
    }

    @Test
    void keysSplitIntoRegistersAndLogs() {
        KeySet keys = KeySet.of(5);
        assertEquals(List.of("r0", "r1", "r2"), keys.registers());
        assertEquals(List.of("l0", "l1"), keys.logs());
        assertTrue(KeySet.isLog("l1.7") && !KeySet.isLog("r1.7"));
        assertEquals("l1.7", KeySet.inGeneration("l1", 7));
        assertThrows(IllegalArgumentException.class, () -> KeySet.of(1));
    }

    @Test
    void durationsParseAsPeopleWriteThem() {
        assertEquals(Duration.ofSeconds(90), DurationText.parse("90s"));
        assertEquals(Duration.ofMinutes(10), DurationText.parse("10m"));
        assertEquals(Duration.ofHours(2), DurationText.parse("2h"));
        assertEquals(Duration.ofMillis(500), DurationText.parse("500ms"));
        assertEquals(Duration.ofSeconds(45), DurationText.parse("45"));
        assertEquals(Duration.ofMinutes(1), DurationText.parse("PT1M"));
        assertThrows(IllegalArgumentException.class, () -> DurationText.parse("soon"));
    }

    @Test
    void theReportsJsonLineAndExitCode() {
        ChaosReport clean = new ChaosReport(10, 12, 12, 0, 0, 345, io.loomkv.core.lincheck.Verdict.OK, List.of());
        assertEquals("{\"ops\":10,\"faults\":12,\"violations\":0,\"lost_acked_writes\":0,\"unavailable_ms_max\":345}", clean.json());
        assertEquals(0, clean.exitCode());
        assertEquals(1, new ChaosReport(10, 12, 12, 1, 0, 0, io.loomkv.core.lincheck.Verdict.ILLEGAL, List.of("x")).exitCode());
        assertEquals(1, new ChaosReport(10, 12, 12, 0, 2, 0, io.loomkv.core.lincheck.Verdict.OK, List.of("x")).exitCode());
        assertEquals(3, new ChaosReport(10, 12, 12, 0, 0, 0, io.loomkv.core.lincheck.Verdict.UNKNOWN, List.of("x")).exitCode());
        assertThrows(IllegalArgumentException.class, () -> new ChaosOptions(Duration.ofSeconds(60), 1, 4, 8, 4,
                java.nio.file.Path.of("x")), "4 nodes");
    }
}
