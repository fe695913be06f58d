package io.loomkv.net.node;

import io.loomkv.net.log.LogContext;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * The thread of a store's background driver ({@link MigrationDriver}, {@link ExpiryDriver},
 * {@link ReplicaPlacementDriver}): one virtual thread running rounds until closed. A round says
 * what comes next: {@link Outcome#MORE} starts the next round at once, {@link Outcome#WAIT} (work
 * under way) after the pause, {@link Outcome#IDLE} (nothing to watch) after a pause that doubles
 * with each idle round up to the idle pause, so that a store with nothing to do is not woken ten
 * times a second per driver (each wake-up costs a carrier thread's park and unpark; on an idle
 * store they are most of its CPU). {@link #wake} cuts a pause short, for news that means work. A
 * round that fails is reported and the next one runs after the pause, so one bad round never
 * stops the driver; an interrupt (from {@link #close}) ends it.
 */
final class RoundLoop implements AutoCloseable {

    /** What a round found, which decides when the next one runs. */
    enum Outcome {
        /** Work is left that should not wait: the next round starts at once. */
        MORE,
        /** Work is under way (or may become due at any moment): the next round after the pause. */
        WAIT,
        /** Nothing to watch: the pause grows with each idle round, up to the idle pause. */
        IDLE
    }

    /** One round of the driver's work. */
    @FunctionalInterface
    interface Round {
        Outcome run() throws InterruptedException;
    }

    private final String threadName;
    private final long pauseNanos;
    private final long idlePauseNanos;
    private final Round round;
    private final Consumer<RuntimeException> onFailure;
    private volatile boolean closed;
    private volatile boolean woken;
    private volatile Thread thread;

    RoundLoop(String threadName, long pauseMillis, long idlePauseMillis, Round round, Consumer<RuntimeException> onFailure) {
        if (pauseMillis < 1 || idlePauseMillis < pauseMillis) {
            throw new IllegalArgumentException("pauses must be positive with the idle one at least the other, got "
                    + pauseMillis + " and " + idlePauseMillis + " ms");
        }
        this.threadName = threadName;
        this.pauseNanos = TimeUnit.MILLISECONDS.toNanos(pauseMillis);
        this.idlePauseNanos = TimeUnit.MILLISECONDS.toNanos(idlePauseMillis);
        this.round = round;
        this.onFailure = onFailure;
    }

    void start() {
        thread = Thread.ofVirtual().name(threadName).start(LogContext.inheritNode(this::run));
    }

    /** Any thread: ends the current pause, so a round runs soon (one already running is followed by another at once). */
    void wake() {
        woken = true;
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    /** Whether {@link #close} was called: a long round checks it between its steps. */
    boolean closed() {
        return closed;
    }

    /** Stops the loop: interrupts a round in progress and waits up to 5 s for it to end. */
    @Override
    public void close() {
        closed = true;
        if (thread != null) {
            thread.interrupt();
            try {
                thread.join(Duration.ofSeconds(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void run() {
        long idleNanos = pauseNanos;
        while (!closed) {
            woken = false;
            Outcome outcome = Outcome.WAIT;
            try {
                outcome = round.run();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                onFailure.accept(e);
            }
            long pause = pauseNanos;
            if (outcome == Outcome.IDLE) {
                pause = idleNanos;
                idleNanos = Math.min(idlePauseNanos, idleNanos * 2);
            } else {
                idleNanos = pauseNanos;
            }
            if (outcome != Outcome.MORE && !pause(pause)) {
                return;
            }
        }
    }

    /** Parks for {@code nanos} or until {@link #wake}; false when interrupted (closed). */
    private boolean pause(long nanos) {
        long deadline = System.nanoTime() + nanos;
        while (!woken && !closed) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            LockSupport.parkNanos(this, left);
            if (Thread.interrupted()) {
                return false;
            }
        }
        return !closed;
    }
}
