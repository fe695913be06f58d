package io.loomkv.bench.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RampScheduleTest {
    private static final long S = TimeUnit.SECONDS.toNanos(1);
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long START = 12_345;

    @Test
    void levelsFollowTheWarmupAndEachOtherAndTheirFirstSecondIsNotMeasured() {
        RampSchedule schedule = new RampSchedule(START, 3 * S, List.of(2L, 4L, 6L), 2 * S, S);
        long first = START + 3 * S;
        assertEquals(first, schedule.firstLevelNanos());
        assertEquals(first + 6 * S, schedule.endNanos());
        assertEquals(S, schedule.measuredNanosPerLevel());
        assertEquals(-1, schedule.levelAt(START));
        assertEquals(-1, schedule.levelAt(first - 1));
        assertEquals(0, schedule.levelAt(first));
        assertEquals(0, schedule.levelAt(first + 2 * S - 1));
        assertEquals(1, schedule.levelAt(first + 2 * S));
        assertEquals(2, schedule.levelAt(first + 6 * S - 1));
        assertEquals(3, schedule.levelAt(first + 6 * S));
        assertEquals(-1, schedule.measuredLevel(START + S));
        assertEquals(-1, schedule.measuredLevel(first));
        assertEquals(-1, schedule.measuredLevel(first + S - 1));
        assertEquals(0, schedule.measuredLevel(first + S));
        assertEquals(0, schedule.measuredLevel(first + 2 * S - 1));
        assertEquals(-1, schedule.measuredLevel(first + 2 * S + 500 * MS));
        assertEquals(1, schedule.measuredLevel(first + 3 * S));
        assertEquals(2, schedule.measuredLevel(first + 6 * S - 1));
        assertEquals(-1, schedule.measuredLevel(first + 6 * S));
    }

    @Test
    void closedLoopWorkersStartWhenTheFirstLevelAboveThemBegins() {
        RampSchedule schedule = new RampSchedule(START, 3 * S, List.of(2L, 4L, 6L), 2 * S, S);
        // The first level's clients run the warm-up too.
        assertEquals(START, schedule.activationNanos(0));
        assertEquals(START, schedule.activationNanos(1));
        assertEquals(schedule.levelStartNanos(1), schedule.activationNanos(2));
        assertEquals(schedule.levelStartNanos(1), schedule.activationNanos(3));
        assertEquals(schedule.levelStartNanos(2), schedule.activationNanos(5));
        assertEquals(Long.MAX_VALUE, schedule.activationNanos(6));
    }

    @Test
    void openLoopTicketsAreDueAtEachLevelsRate() {
        // Warm-up 1 s at the first level's 1,000 ops/s, then 2 s at 1,000 and 2 s at 2,000 ops/s.
        RampSchedule schedule = new RampSchedule(START, S, List.of(1000L, 2000L), 2 * S, S);
        assertEquals(2000, schedule.ticketsOfLevel(0));
        assertEquals(4000, schedule.ticketsOfLevel(1));
        assertEquals(3000, schedule.ticketsThroughLevel(0));
        assertEquals(7000, schedule.ticketsThroughLevel(1));
        assertEquals(START, schedule.intendedStartNanos(0));
        assertEquals(START + MS, schedule.intendedStartNanos(1));
        assertEquals(schedule.firstLevelNanos(), schedule.intendedStartNanos(1000));
        assertEquals(schedule.levelStartNanos(1), schedule.intendedStartNanos(3000));
        assertEquals(schedule.levelStartNanos(1) + MS / 2, schedule.intendedStartNanos(3001));
        assertEquals(Long.MAX_VALUE, schedule.intendedStartNanos(7000));
        long last = Long.MIN_VALUE;
        for (long ticket = 0; ticket < 7000; ticket++) {
            long due = schedule.intendedStartNanos(ticket);
            assertTrue(due > last, "ticket " + ticket + " due at " + due + " after " + last);
            int expectedLevel = ticket < 1000 ? -1 : ticket < 3000 ? 0 : 1;
            assertEquals(expectedLevel, schedule.levelAt(due), "ticket " + ticket);
            last = due;
        }
    }

    @Test
    void withoutWarmupTheFirstTicketIsDueAtTheFirstLevel() {
        RampSchedule schedule = new RampSchedule(START, 0, List.of(3L, 7L), 2 * S, S);
        assertEquals(START, schedule.firstLevelNanos());
        assertEquals(START, schedule.intendedStartNanos(0));
        assertEquals(6, schedule.ticketsOfLevel(0));
        assertEquals(14, schedule.ticketsOfLevel(1));
        // 3 ops/s: due every 333,333,333 ns (rounded down), all inside the level.
        assertEquals(START + 333_333_333L, schedule.intendedStartNanos(1));
        assertEquals(schedule.levelStartNanos(1), schedule.intendedStartNanos(6));
    }

    @Test
    void badSchedulesAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new RampSchedule(0, 0, List.of(), 2 * S, S));
        assertThrows(IllegalArgumentException.class, () -> new RampSchedule(0, 0, List.of(4L, 4L), 2 * S, S));
        assertThrows(IllegalArgumentException.class, () -> new RampSchedule(0, 0, List.of(0L, 4L), 2 * S, S));
        assertThrows(IllegalArgumentException.class, () -> new RampSchedule(0, 0, List.of(1L), 2 * S, 2 * S));
        assertThrows(IllegalArgumentException.class, () -> new RampSchedule(0, -1, List.of(1L), 2 * S, S));
        assertThrows(IllegalArgumentException.class, () -> new RampSchedule(0, 0, List.of(1L), 2 * S, S).intendedStartNanos(-1));
    }
}
