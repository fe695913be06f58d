package io.loomkv.net.node;

import io.loomkv.net.log.LogContext;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * The thread of a store's background driver ({@link MigrationDriver}, {@link ExpiryDriver}): one
 * virtual thread running rounds until closed; a round that reports more work starts the next one
 * at once, otherwise the loop pauses. A round that fails is reported and the next one runs after
 * the pause, so one bad round never stops the driver; an interrupt (from {@link #close}) ends it.
 */
final class RoundLoop implements AutoCloseable {

    /** One round of the driver's work. */
    @FunctionalInterface
    interface Round {
        /** @return true when work is left that should not wait for the pause */
        boolean run() throws InterruptedException;
    }

    private final String threadName;
    private final long pauseMillis;
    private final Round round;
    private final Consumer<RuntimeException> onFailure;
    private volatile boolean closed;
    private Thread thread;

    RoundLoop(String threadName, long pauseMillis, Round round, Consumer<RuntimeException> onFailure) {
        if (pauseMillis < 1) {
            throw new IllegalArgumentException("pauseMillis must be positive, got " + pauseMillis);
        }
        this.threadName = threadName;
        this.pauseMillis = pauseMillis;
        this.round = round;
        this.onFailure = onFailure;
    }

    void start() {
        thread = Thread.ofVirtual().name(threadName).start(LogContext.inheritNode(this::run));
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
        while (!closed) {
            boolean busy = false;
            try {
                busy = round.run();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                onFailure.accept(e);
            }
            if (!busy) {
                try {
                    Thread.sleep(pauseMillis);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }
}
