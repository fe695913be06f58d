package io.loomkv.bench.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

/** The latency accounting, on a fake clock: operations advance time by what they "take". */
class LoadLoopTest {
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    /** A single-threaded fake clock; sleeping jumps to the deadline. */
    private static final class FakeClock implements NanoClock {
        long now;

        @Override
        public long nanoTime() {
            return now;
        }

        @Override
        public void sleepUntil(long deadlineNanos) {
            now = Math.max(now, deadlineNanos);
        }
    }

    /** Every operation takes {@code serviceNanos}, except operation {@code stallAt}, which takes {@code stallNanos}. */
    private static final class TimedWorker implements LoadLoop.Worker {
        final FakeClock clock;
        final long serviceNanos;
        final int stallAt;
        final long stallNanos;
        final List<Long> starts = new ArrayList<>();

        TimedWorker(FakeClock clock, long serviceNanos, int stallAt, long stallNanos) {
            this.clock = clock;
            this.serviceNanos = serviceNanos;
            this.stallAt = stallAt;
            this.stallNanos = stallNanos;
        }

        @Override
        public OpType nextOp() {
            return OpType.READ;
        }

        @Override
        public LoadLoop.Outcome execute(OpType op) {
            starts.add(clock.now);
            clock.now += starts.size() - 1 == stallAt ? stallNanos : serviceNanos;
            return LoadLoop.Outcome.OK;
        }
    }

    @Test
    void openLoopChargesQueuedOperationsFromTheirIntendedStart() throws InterruptedException {
        FakeClock clock = new FakeClock();
        OpStats stats = new OpStats();
        // 1,000 ops/s (one due every 1 ms), each takes 0.1 ms, but operation 10 stalls for 50 ms.
        LoadLoop loop = new LoadLoop(clock, 0, 0, 1000 * MS, 1000, stats);
        TimedWorker worker = new TimedWorker(clock, MS / 10, 10, 50 * MS);
        loop.run(worker);
        Histogram reads = stats.latencies(OpType.READ);
        assertEquals(1000, reads.getTotalCount());
        // The stalled op: 50 ms. The ops due during and after the stall queue behind it and catch up
        // by 0.9 ms per op: op k (11..64) finishes at 60 + (k - 10) * 0.1 ms, over 1 ms after it was
        // due. A closed-loop measurement would record one slow op only.
        assertEquals(50 * MS, reads.getMaxValue(), reads.getMaxValue() / 500.0);
        long over1ms = reads.getTotalCount() - reads.getCountBetweenValues(0, MS);
        assertEquals(55, over1ms, 1, "operations delayed by the stall are charged their wait");
        // After catching up, operations are on schedule again: the 0.1 ms service time.
        assertEquals(MS / 10, reads.getValueAtPercentile(50), MS / 100);
        assertEquals(0, loop.unsent());
        // Operation 11 was due at 11 ms but started at 60 ms (after the stall).
        assertEquals(60 * MS, worker.starts.get(11));
    }

    @Test
    void closedLoopMeasuresServiceTimeOnly() throws InterruptedException {
        FakeClock clock = new FakeClock();
        OpStats stats = new OpStats();
        LoadLoop loop = new LoadLoop(clock, 0, 0, 100 * MS, 0, stats);
        loop.run(new TimedWorker(clock, MS, 10, 50 * MS));
        Histogram reads = stats.latencies(OpType.READ);
        // 10 ops of 1 ms, one of 50 ms (ending at 60 ms), 40 more of 1 ms.
        assertEquals(51, reads.getTotalCount());
        assertEquals(1, reads.getTotalCount() - reads.getCountBetweenValues(0, 2 * MS));
    }

    @Test
    void warmupIsRunButNotRecorded() throws InterruptedException {
        FakeClock clock = new FakeClock();
        OpStats stats = new OpStats();
        LoadLoop loop = new LoadLoop(clock, 0, 20 * MS, 30 * MS, 0, stats);
        loop.run(new TimedWorker(clock, MS, -1, 0));
        assertEquals(50, loop.completed());
        assertEquals(30, stats.latencies(OpType.READ).getTotalCount());
    }

    @Test
    void openLoopThatFallsBehindCountsUnsentOperations() throws InterruptedException {
        FakeClock clock = new FakeClock();
        OpStats stats = new OpStats();
        // 1,000 ops/s for 100 ms, but each op takes 2 ms: only 50 can be done by one worker.
        LoadLoop loop = new LoadLoop(clock, 0, 0, 100 * MS, 1000, stats);
        loop.run(new TimedWorker(clock, 2 * MS, -1, 0));
        assertEquals(50, stats.latencies(OpType.READ).getTotalCount());
        assertEquals(50, loop.unsent());
        // The last one was due at 49 ms and finished at 100 ms.
        assertEquals(51 * MS, stats.latencies(OpType.READ).getMaxValue(), MS / 10); // 3 significant digits
    }

    @Test
    void errorsAndConflictsAreCounted() throws InterruptedException {
        FakeClock clock = new FakeClock();
        OpStats stats = new OpStats();
        LoadLoop loop = new LoadLoop(clock, 0, 0, 3 * MS, 0, stats);
        LoadLoop.Outcome[] outcomes = {LoadLoop.Outcome.OK, LoadLoop.Outcome.ERROR, LoadLoop.Outcome.CONFLICT};
        int[] i = {0};
        loop.run(new LoadLoop.Worker() {
            @Override
            public OpType nextOp() {
                return OpType.RMW;
            }

            @Override
            public LoadLoop.Outcome execute(OpType op) {
                clock.now += MS;
                return outcomes[i[0]++];
            }
        });
        assertEquals(1, stats.errors(OpType.RMW));
        assertEquals(1, stats.totalErrors());
        assertEquals(1, stats.conflicts());
        assertEquals(2, stats.latencies(OpType.RMW).getTotalCount());
        assertEquals(1, loop.completedErrors());
    }

    @Test
    void badLoopParametersAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new LoadLoop(new FakeClock(), 0, -1, MS, 0, new OpStats()));
        assertThrows(IllegalArgumentException.class, () -> new LoadLoop(new FakeClock(), 0, 0, 0, 0, new OpStats()));
        assertThrows(IllegalArgumentException.class, () -> new LoadLoop(new FakeClock(), 0, 0, MS, -5, new OpStats()));
    }
}
