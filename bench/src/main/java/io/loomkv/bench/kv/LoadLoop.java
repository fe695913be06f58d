package io.loomkv.bench.kv;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The loop every worker runs, closed or open.
 *
 * <p>Closed loop: a worker issues its next operation as soon as the previous one finished;
 * latency is the operation's own time. Open loop ({@code rateOpsPerSecond > 0}): operation
 * {@code i} (a ticket shared by all workers) is due at {@code start + i / rate}; a worker waits
 * until it is due, and its latency is measured from that INTENDED start, so when the cluster
 * stalls, the operations queued behind the stall are charged the time they waited (no coordinated
 * omission). When the run ends with operations due but not yet sent, they are counted as
 * {@link #unsent()}, never silently dropped.
 *
 * <p>Operations due (or started, closed loop) before {@code measureFromNanos} are warm-up: run,
 * not recorded.
 */
public final class LoadLoop {
    /** What a worker does: choose an operation and run it. */
    public interface Worker {
        OpType nextOp();

        Outcome execute(OpType op);
    }

    public enum Outcome { OK, CONFLICT, ERROR }

    private final NanoClock clock;
    private final long startNanos;
    private final long measureFromNanos;
    private final long endNanos;
    private final double rateOpsPerSecond;
    private final OpStats stats;
    private final AtomicLong tickets = new AtomicLong();
    private final LongAdder completed = new LongAdder();
    private final LongAdder completedErrors = new LongAdder();

    public LoadLoop(NanoClock clock, long startNanos, long warmupNanos, long durationNanos, double rateOpsPerSecond, OpStats stats) {
        if (warmupNanos < 0 || durationNanos <= 0) {
            throw new IllegalArgumentException("need warmup >= 0 and duration > 0, got " + warmupNanos + " and " + durationNanos + " ns");
        }
        if (!(rateOpsPerSecond >= 0) || Double.isInfinite(rateOpsPerSecond)) {
            throw new IllegalArgumentException("rate must be >= 0 (0: closed loop), got " + rateOpsPerSecond);
        }
        this.clock = clock;
        this.startNanos = startNanos;
        this.measureFromNanos = startNanos + warmupNanos;
        this.endNanos = measureFromNanos + durationNanos;
        this.rateOpsPerSecond = rateOpsPerSecond;
        this.stats = stats;
    }

    public boolean openLoop() {
        return rateOpsPerSecond > 0;
    }

    /** The intended start of open-loop operation {@code ticket}. */
    long intendedStart(long ticket) {
        return startNanos + (long) (ticket * 1e9 / rateOpsPerSecond);
    }

    /** Runs one worker until the end of the measured phase (or interruption). */
    public void run(Worker worker) throws InterruptedException {
        while (true) {
            long intended;
            if (openLoop()) {
                long ticket = tickets.getAndIncrement();
                intended = intendedStart(ticket);
                if (intended >= endNanos || clock.nanoTime() >= endNanos) {
                    return;
                }
                clock.sleepUntil(intended);
            } else {
                intended = clock.nanoTime();
                if (intended >= endNanos) {
                    return;
                }
            }
            if (Thread.currentThread().isInterrupted()) {
                throw new InterruptedException();
            }
            OpType op = worker.nextOp();
            Outcome outcome = worker.execute(op);
            long done = clock.nanoTime();
            completed.increment();
            if (outcome == Outcome.ERROR) {
                completedErrors.increment();
            }
            if (intended >= measureFromNanos) {
                switch (outcome) {
                    case OK -> stats.recordSuccess(op, done - intended);
                    case CONFLICT -> {
                        stats.recordSuccess(op, done - intended);
                        stats.recordConflict();
                    }
                    case ERROR -> stats.recordError(op);
                }
            }
        }
    }

    /** Operations finished so far, warm-up included (for the progress line). */
    public long completed() {
        return completed.sum();
    }

    public long completedErrors() {
        return completedErrors.sum();
    }

    /**
     * Open loop, after the run: operations that were due in the measured window but never sent
     * because every worker was still busy (the cluster fell behind the requested rate).
     */
    public long unsent() {
        if (!openLoop()) {
            return 0;
        }
        long dueBeforeEnd = (long) Math.ceil((endNanos - startNanos) * rateOpsPerSecond / 1e9);
        return Math.max(0, dueBeforeEnd - completed());
    }

    public long measureFromNanos() {
        return measureFromNanos;
    }

    public long endNanos() {
        return endNanos;
    }
}
