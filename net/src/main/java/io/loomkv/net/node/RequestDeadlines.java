package io.loomkv.net.node;

import io.loomkv.net.log.LogContext;
import io.loomkv.net.rpc.SweeperSleep;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives every client request the same timeout with one sweeping thread instead of a timer task
 * per request ({@code CompletableFuture.completeOnTimeout} schedules one and cancels it again on
 * every reply: measurable CPU on the leader at tens of thousands of requests per second). Since
 * the timeout is the same for all, arrival order is deadline order: the sweeper only looks at the
 * head of a FIFO queue, dropping answered requests and timing out expired ones. A request that
 * is answered while an older one still waits stays queued until that one is answered or expires,
 * so the queue is bounded: past {@link #MAX_TRACKED} the per-request timer is used instead.
 * The sweeper looks every {@value #SWEEP_INTERVAL_MILLIS} ms while requests are tracked and sleeps
 * until the next one while none is ({@link SweeperSleep}), so an idle node does not wake for it.
 *
 * @param <T> the reply type
 */
final class RequestDeadlines<T> implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RequestDeadlines.class);
    static final int MAX_TRACKED = 1 << 20;
    static final long SWEEP_INTERVAL_MILLIS = 10;

    private record Tracked<T>(long deadlineNanos, CompletableFuture<T> reply) {
    }

    private final long timeoutNanos;
    private final T timeoutReply;
    private final ConcurrentLinkedQueue<Tracked<T>> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger tracked = new AtomicInteger();
    private final SweeperSleep sweeperSleep = new SweeperSleep(TimeUnit.MILLISECONDS.toNanos(SWEEP_INTERVAL_MILLIS));
    private final Thread sweeper;
    private volatile boolean running = true;

    RequestDeadlines(String name, long timeoutMillis, T timeoutReply) {
        if (timeoutMillis <= 0) {
            throw new IllegalArgumentException("timeoutMillis must be positive, got " + timeoutMillis);
        }
        this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        this.timeoutReply = timeoutReply;
        this.sweeper = Thread.ofVirtual().name(name).start(LogContext.inheritNode(this::sweepLoop));
    }

    /** Completes {@code reply} with the timeout reply unless it is completed within the timeout. */
    CompletableFuture<T> track(CompletableFuture<T> reply) {
        if (reply.isDone()) {
            return reply;
        }
        if (!running || tracked.incrementAndGet() > MAX_TRACKED) {
            if (running) {
                tracked.decrementAndGet();
            }
            return reply.completeOnTimeout(timeoutReply, timeoutNanos, TimeUnit.NANOSECONDS);
        }
        queue.add(new Tracked<>(System.nanoTime() + timeoutNanos, reply));
        sweeperSleep.workAdded();
        return reply;
    }

    /** True while the sweeper sleeps without a timeout because nothing is tracked (for tests). */
    boolean sweeperIdle() {
        return sweeperSleep.isParkedIdle();
    }

    /** Requests tracked right now (answered ones included until they reach the head). */
    int trackedCount() {
        return tracked.get();
    }

    /** Drops answered requests from the head and times out the expired ones; returns how many timed out. */
    int sweep(long nowNanos) {
        return sweep(nowNanos, false);
    }

    private int sweep(long nowNanos, boolean expireAll) {
        int expired = 0;
        Tracked<T> head;
        while ((head = queue.peek()) != null) {
            if (!expireAll && !head.reply().isDone() && nowNanos - head.deadlineNanos() < 0) {
                break;
            }
            if (queue.poll() != head) {
                throw new IllegalStateException("request deadlines: the queue has one consumer, but its head changed");
            }
            tracked.decrementAndGet();
            if (head.reply().complete(timeoutReply)) {
                expired++;
            }
        }
        return expired;
    }

    private void sweepLoop() {
        while (running) {
            sweeperSleep.sleep(!queue.isEmpty(), () -> !queue.isEmpty());
            if (!running) {
                break;
            }
            try {
                sweep(System.nanoTime());
            } catch (RuntimeException e) {
                LOG.error("request deadline sweeper failed; requests may wait past their timeout", e);
            }
        }
    }

    /** Stops the sweeper and times out everything still waiting. */
    @Override
    public void close() {
        running = false;
        sweeper.interrupt();
        try {
            sweeper.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sweep(System.nanoTime(), true);
    }
}
