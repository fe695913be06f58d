package io.loomkv.bench.kv;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * The loop every worker runs in a ramped run ({@link RampSchedule} says when): records each
 * measured operation in its level's statistics and in the whole run's, and lets the reporter
 * {@link #closeLevel close} a level once none of its operations can still finish.
 *
 * <p>Only the levels not yet closed hold histograms (a few at a time), so a long ramp does not
 * keep hundreds of them.
 *
 * <p>How a level is known to be complete without races: before choosing its next operation (reading
 * the clock, or taking an open-loop ticket), a worker publishes {@link #STARTING}, then the level
 * of the operation, and {@link #IDLE} once it is recorded. The reporter waits until the level's
 * time is over (closed loop) or all its tickets are taken (open loop), and then until no worker
 * is {@code STARTING} or busy with that level or an earlier one: a worker that publishes
 * {@code STARTING} after that scan reads a later clock or ticket, so its operation belongs to a
 * later level.
 */
public final class RampLoop {
    private static final int IDLE = Integer.MAX_VALUE;
    private static final int STARTING = -2;
    private static final int WARMUP = -1;

    private final NanoClock clock;
    private final RampSchedule schedule;
    private final boolean openLoop;
    private final OpStats overall;
    private final AtomicReferenceArray<OpStats> levelStats;
    private final AtomicIntegerArray busyLevel;
    private final AtomicLong tickets = new AtomicLong();
    private final LongAdder completed = new LongAdder();
    private final LongAdder completedErrors = new LongAdder();
    private volatile int closedThrough = -1;

    public RampLoop(NanoClock clock, RampSchedule schedule, boolean openLoop, int workerCount, OpStats overall) {
        if (workerCount < 1) {
            throw new IllegalArgumentException("need at least one worker, got " + workerCount);
        }
        this.clock = clock;
        this.schedule = schedule;
        this.openLoop = openLoop;
        this.overall = overall;
        this.levelStats = new AtomicReferenceArray<>(schedule.levelCount());
        this.busyLevel = new AtomicIntegerArray(workerCount);
        for (int i = 0; i < workerCount; i++) {
            busyLevel.set(i, IDLE);
        }
    }

    public RampSchedule schedule() {
        return schedule;
    }

    /** Runs worker {@code index} until the last level ends (or interruption). */
    public void run(LoadLoop.Worker worker, int index) throws InterruptedException {
        try {
            if (!openLoop) {
                long activation = schedule.activationNanos(index);
                if (activation >= schedule.endNanos()) {
                    return;
                }
                clock.sleepUntil(activation);
            }
            while (runOne(worker, index)) {
                if (Thread.currentThread().isInterrupted()) {
                    throw new InterruptedException();
                }
            }
        } finally {
            busyLevel.set(index, IDLE);
        }
    }

    /** One operation; false when the run is over. */
    private boolean runOne(LoadLoop.Worker worker, int index) throws InterruptedException {
        busyLevel.set(index, STARTING);
        long intended;
        if (openLoop) {
            intended = schedule.intendedStartNanos(tickets.getAndIncrement());
            if (intended >= schedule.endNanos() || clock.nanoTime() >= schedule.endNanos()) {
                return false;
            }
            busyLevel.set(index, Math.max(WARMUP, schedule.levelAt(intended)));
            clock.sleepUntil(intended);
        } else {
            intended = clock.nanoTime();
            if (intended >= schedule.endNanos()) {
                return false;
            }
            busyLevel.set(index, Math.max(WARMUP, schedule.levelAt(intended)));
        }
        OpType op = worker.nextOp();
        LoadLoop.Outcome outcome = worker.execute(op);
        long latency = clock.nanoTime() - intended;
        completed.increment();
        if (outcome == LoadLoop.Outcome.ERROR) {
            completedErrors.increment();
        }
        if (intended >= schedule.firstLevelNanos()) {
            record(overall, op, outcome, latency);
        }
        int level = schedule.measuredLevel(intended);
        if (level >= 0) {
            OpStats stats = statsOf(level);
            if (stats != null) {
                record(stats, op, outcome, latency);
            }
        }
        busyLevel.set(index, IDLE);
        return true;
    }

    private static void record(OpStats stats, OpType op, LoadLoop.Outcome outcome, long latencyNanos) {
        switch (outcome) {
            case OK -> stats.recordSuccess(op, latencyNanos);
            case CONFLICT -> {
                stats.recordSuccess(op, latencyNanos);
                stats.recordConflict();
            }
            case ERROR -> stats.recordError(op);
        }
    }

    /** The live statistics of a level not yet closed (created on first use), or null once it is closed. */
    private OpStats statsOf(int level) {
        if (level <= closedThrough) {
            return null;
        }
        OpStats stats = levelStats.get(level);
        if (stats == null) {
            levelStats.compareAndSet(level, null, new OpStats());
            stats = levelStats.get(level);
        }
        return stats;
    }

    /**
     * Waits (polling every {@code pollNanos}) until level {@code level} is complete or
     * {@code deadlineNanos} passes, then freezes its figures and drops its histograms. Levels must
     * be closed in order.
     */
    public LevelResult closeLevel(int level, long deadlineNanos, long pollNanos) throws InterruptedException {
        if (level != closedThrough + 1) {
            throw new IllegalStateException("levels close in order: closed through " + closedThrough + ", asked to close " + level);
        }
        long levelEnd = schedule.levelStartNanos(level + 1);
        clock.sleepUntil(levelEnd);
        while (pending(level) > 0 && clock.nanoTime() < deadlineNanos) {
            clock.sleepUntil(Math.min(deadlineNanos, clock.nanoTime() + pollNanos));
        }
        long pending = pending(level);
        closedThrough = level;
        OpStats stats = levelStats.getAndSet(level, null);
        return LevelResult.of(schedule.level(level), schedule.measuredNanosPerLevel(), stats == null ? new OpStats() : stats, pending);
    }

    /** Operations of {@code level} (or earlier) still running, plus, open loop, its tickets not yet taken. */
    private long pending(int level) {
        long unsent = openLoop ? Math.max(0, schedule.ticketsThroughLevel(level) - tickets.get()) : 0;
        long running = 0;
        for (int i = 0; i < busyLevel.length(); i++) {
            int busy = busyLevel.get(i);
            if (busy == STARTING || (busy >= 0 && busy <= level)) {
                running++;
            }
        }
        return unsent + running;
    }

    /**
     * Open loop, after the run: operations due before the last level's end that were never sent
     * because every worker was still busy (the cluster fell behind the target rate).
     */
    public long unsent() {
        if (!openLoop) {
            return 0;
        }
        return Math.max(0, schedule.ticketsThroughLevel(schedule.levelCount() - 1) - completed());
    }

    /** Operations finished so far, warm-up and settling included (for the progress line). */
    public long completed() {
        return completed.sum();
    }

    public long completedErrors() {
        return completedErrors.sum();
    }
}
