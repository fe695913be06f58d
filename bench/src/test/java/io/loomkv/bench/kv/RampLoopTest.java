package io.loomkv.bench.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongUnaryOperator;
import org.junit.jupiter.api.Test;

/** The per-level bookkeeping of a ramp, on a fake clock: operations advance time by what they "take". */
class RampLoopTest {
    private static final long S = TimeUnit.SECONDS.toNanos(1);
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    /** A fake clock; sleeping jumps to the deadline. */
    private static final class FakeClock implements NanoClock {
        final AtomicLong now = new AtomicLong();

        @Override
        public long nanoTime() {
            return now.get();
        }

        @Override
        public void sleepUntil(long deadlineNanos) {
            now.accumulateAndGet(deadlineNanos, Math::max);
        }
    }

    /** Each operation takes {@code latency(now)} and fails when {@code failEvery} divides its number. */
    private static LoadLoop.Worker worker(FakeClock clock, LongUnaryOperator latency, int failEvery) {
        return new LoadLoop.Worker() {
            int count;

            @Override
            public OpType nextOp() {
                return count % 2 == 0 ? OpType.READ : OpType.UPDATE;
            }

            @Override
            public LoadLoop.Outcome execute(OpType op) {
                clock.now.addAndGet(latency.applyAsLong(clock.nanoTime()));
                count++;
                return failEvery > 0 && count % failEvery == 0 ? LoadLoop.Outcome.ERROR : LoadLoop.Outcome.OK;
            }
        };
    }

    @Test
    void eachLevelHasItsOwnStatisticsWithoutItsFirstSecond() throws InterruptedException {
        FakeClock clock = new FakeClock();
        RampSchedule schedule = new RampSchedule(0, S, List.of(1L, 2L, 3L), 2 * S, S);
        OpStats overall = new OpStats();
        RampLoop loop = new RampLoop(clock, schedule, false, 3, overall);
        // Operations take 1 ms in the warm-up and the first level, 2 ms in the second, 4 ms in the third.
        loop.run(worker(clock, now -> MS << Math.max(0, schedule.levelAt(now)), 0), 0);
        LevelResult first = loop.closeLevel(0, Long.MAX_VALUE, MS);
        LevelResult second = loop.closeLevel(1, Long.MAX_VALUE, MS);
        assertEquals(1, first.level());
        assertEquals(1000, first.operations());
        assertEquals(1000, first.opsPerSecond(), 1e-9);
        assertEquals(MS, first.p99Nanos(), MS / 500.0);
        assertEquals(2, second.level());
        assertEquals(500, second.operations());
        assertEquals(2 * MS, second.p50Nanos(), 2 * MS / 500.0);
        assertEquals(2 * MS, second.p99NanosByType().get(OpType.UPDATE), 2 * MS / 500.0);
        assertEquals(0, first.errors() + second.errors() + first.pending() + second.pending());
        // The whole run's statistics hold every level, settling included, but not the warm-up.
        assertEquals(2000 + 1000 + 500, overall.overall().getTotalCount());
        // 1,000 warm-up operations, then 2,000 + 1,000 + 500 in the levels.
        assertEquals(4500, loop.completed());
    }

    @Test
    void errorsAreCountedInTheirLevel() throws InterruptedException {
        FakeClock clock = new FakeClock();
        RampSchedule schedule = new RampSchedule(0, 0, List.of(1L, 2L), 2 * S, S);
        RampLoop loop = new RampLoop(clock, schedule, false, 2, new OpStats());
        loop.run(worker(clock, now -> 4 * MS, 10), 0);
        LevelResult first = loop.closeLevel(0, Long.MAX_VALUE, MS);
        assertEquals(250, first.operations() + first.errors());
        assertEquals(25, first.errors());
        assertEquals(225, first.operations());
        assertEquals(225, first.opsPerSecond(), 1e-9);
    }

    @Test
    void operationsBelongToTheLevelTheyStartedIn() throws InterruptedException {
        FakeClock clock = new FakeClock();
        RampSchedule schedule = new RampSchedule(0, 0, List.of(1L, 2L), 2 * S, S);
        RampLoop loop = new RampLoop(clock, schedule, false, 2, new OpStats());
        // 300 ms each: starts at 0, 0.3, ..., 1.8 (ends at 2.1, in the second level), 2.1, 2.4, ...
        loop.run(worker(clock, now -> 300 * MS, 0), 0);
        // Measured in the first level: the starts at 1.2, 1.5 and 1.8 s.
        assertEquals(3, loop.closeLevel(0, Long.MAX_VALUE, MS).operations());
        // In the second: 3.0, 3.3, 3.6 and 3.9 s.
        assertEquals(4, loop.closeLevel(1, Long.MAX_VALUE, MS).operations());
    }

    @Test
    void openLoopLevelsAreMeasuredFromEachOperationsIntendedStart() throws InterruptedException {
        FakeClock clock = new FakeClock();
        RampSchedule schedule = new RampSchedule(0, 0, List.of(1000L, 2000L, 4000L), 2 * S, S);
        RampLoop loop = new RampLoop(clock, schedule, true, 1, new OpStats());
        // 0.4 ms per operation: one worker keeps up with 1,000 and 2,000 ops/s, not with 4,000.
        loop.run(worker(clock, now -> 400_000, 0), 0);
        LevelResult first = loop.closeLevel(0, clock.nanoTime(), MS);
        LevelResult second = loop.closeLevel(1, clock.nanoTime(), MS);
        LevelResult third = loop.closeLevel(2, clock.nanoTime(), MS);
        assertEquals(1000, first.operations());
        assertEquals(400_000, first.p99Nanos(), 1000);
        assertEquals(2000, second.operations());
        assertEquals(400_000, second.p99Nanos(), 1000);
        // At 4,000 ops/s the queue grows by 0.15 ms per operation: latencies climb over the level
        // and the operations due in its last part were never sent.
        assertTrue(third.p99Nanos() > 100 * MS, "p99 " + third.p99Nanos());
        assertTrue(third.operations() < 4000, "operations " + third.operations());
        // One worker sends about 5,000 of the level's 8,000 operations (2 s / 0.4 ms): the line
        // names the other 3,000 as pending.
        assertEquals(3000, third.pending(), 2);
        assertTrue(loop.unsent() > 0);
    }

    @Test
    void aLevelLineCountsOperationsStillRunningAtItsDeadline() throws Exception {
        FakeClock clock = new FakeClock();
        RampSchedule schedule = new RampSchedule(0, 0, List.of(1L, 2L), 2 * S, S);
        RampLoop loop = new RampLoop(clock, schedule, false, 2, new OpStats());
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread worker = Thread.ofVirtual().start(() -> {
            try {
                loop.run(new LoadLoop.Worker() {
                    @Override
                    public OpType nextOp() {
                        return OpType.READ;
                    }

                    @Override
                    public LoadLoop.Outcome execute(OpType op) {
                        if (clock.nanoTime() >= 1500 * MS && started.getCount() > 0) {
                            // Stuck in the first level's measured window until the test lets go.
                            started.countDown();
                            try {
                                release.await();
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                            return LoadLoop.Outcome.OK;
                        }
                        clock.now.addAndGet(100 * MS);
                        return LoadLoop.Outcome.OK;
                    }
                }, 0);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertTrue(started.await(60, TimeUnit.SECONDS));
        // The stuck operation is the level's: at the deadline the line is printed without it.
        LevelResult first = loop.closeLevel(0, 2 * S + 6 * S, MS);
        assertEquals(1, first.pending());
        assertEquals(5, first.operations());
        release.countDown();
        worker.join(TimeUnit.SECONDS.toMillis(60));
        assertThrows(IllegalStateException.class, () -> loop.closeLevel(0, Long.MAX_VALUE, MS));
    }

    @Test
    void levelsCloseInOrder() {
        RampLoop loop = new RampLoop(new FakeClock(), new RampSchedule(0, 0, List.of(1L, 2L), 2 * S, S), false, 2, new OpStats());
        assertThrows(IllegalStateException.class, () -> loop.closeLevel(1, Long.MAX_VALUE, MS));
    }
}
