package io.loomkv.persist.wal;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;
import java.util.concurrent.locks.LockSupport;

/**
 * One append's claim on durability, from {@link Wal#submit}: the log's last index after the
 * append, and a wait until the append is durable (or the WAL failed).
 *
 * <p>Why not a {@code CompletableFuture}: with group commit one force releases many appenders at
 * once, and the writer thread releases them one after another while they wait for their next
 * append. A ticket is the cheapest thing that works for that: one volatile state, and the writer
 * unparks the one thread waiting on it directly (no future, no {@code Signaller} node, no
 * completion stack). A ticket serves one waiting thread at a time; use {@link Wal#append} when
 * several parties need to learn about the same append.
 */
public final class WalTicket {
    private static final int PENDING = 0;
    private static final int DURABLE = 1;
    private static final int FAILED = 2;
    private static final AtomicReferenceFieldUpdater<WalTicket, Thread> WAITER =
            AtomicReferenceFieldUpdater.newUpdater(WalTicket.class, Thread.class, "waiter");
    @SuppressWarnings("rawtypes")
    private static final AtomicReferenceFieldUpdater<WalTicket, List> RELAY =
            AtomicReferenceFieldUpdater.newUpdater(WalTicket.class, List.class, "relay");
    /** Set by a waiter on its way out: a relay handed over after that is the writer's to unpark. */
    private static final List<Thread> WAITER_GONE = List.of();

    private final long lastIndexAfter;
    private volatile int state = PENDING;
    private volatile Thread waiter;
    private volatile List<Thread> relay; // other waiters this ticket's waiter unparks once woken; see handOverRelay
    private Throwable failure; // written before state becomes FAILED, read after

    WalTicket(long lastIndexAfter) {
        this.lastIndexAfter = lastIndexAfter;
    }

    /** The log's last index once this append is in (the value {@link Wal#append}'s future completes with). */
    public long lastIndex() {
        return lastIndexAfter;
    }

    /** True once the append is durable. */
    public boolean isDurable() {
        return state == DURABLE;
    }

    /**
     * Blocks until the append is durable and returns {@link #lastIndex()}.
     *
     * @throws WalFailedException when an I/O error stopped the WAL before the append was durable
     * @throws InterruptedException when the waiting thread is interrupted (the append itself goes on)
     */
    public long await() throws InterruptedException {
        return await(Long.MAX_VALUE);
    }

    /** As {@link #await()}, giving up after {@code timeout}. */
    public long await(long timeout, TimeUnit unit) throws InterruptedException, TimeoutException {
        long nanos = unit.toNanos(timeout);
        long index = await(nanos <= 0 ? 0 : nanos);
        if (index < 0) {
            throw new TimeoutException("append up to index " + lastIndexAfter + " not durable after " + timeout + " " + unit);
        }
        return index;
    }

    /** Waits up to {@code timeoutNanos} (Long.MAX_VALUE: no limit); returns the last index, or -1 on timeout. */
    private long await(long timeoutNanos) throws InterruptedException {
        int current = state;
        if (current == PENDING) {
            current = block(timeoutNanos);
        }
        return switch (current) {
            case DURABLE -> lastIndexAfter;
            case FAILED -> throw new WalFailedException("the WAL failed before the append up to index " + lastIndexAfter + " was durable", failure);
            default -> -1;
        };
    }

    private int block(long timeoutNanos) throws InterruptedException {
        Thread me = Thread.currentThread();
        if (!WAITER.compareAndSet(this, null, me) && waiter != me) {
            throw new IllegalStateException("another thread (" + waiter + ") already waits on the ticket for index " + lastIndexAfter);
        }
        try {
            boolean timed = timeoutNanos != Long.MAX_VALUE;
            long deadline = timed ? System.nanoTime() + timeoutNanos : 0;
            int current;
            // The writer sets the state and then reads the waiter; we set the waiter and then read the
            // state: both volatile, so at least one of us sees the other and no wake-up is lost.
            while ((current = state) == PENDING) {
                if (Thread.interrupted()) {
                    throw new InterruptedException("interrupted while waiting for index " + lastIndexAfter + " to be durable");
                }
                if (timed) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return PENDING;
                    }
                    LockSupport.parkNanos(this, left);
                } else {
                    LockSupport.park(this);
                }
            }
            return current;
        } finally {
            waiter = null;
            relayOthers();
        }
    }

    /** Unparks the waiters handed over with {@link #handOverRelay}, if any; marks the ticket so that none is handed over later. */
    @SuppressWarnings("unchecked")
    private void relayOthers() {
        List<Thread> others = (List<Thread>) RELAY.getAndSet(this, WAITER_GONE);
        if (others != null) {
            for (Thread other : others) {
                LockSupport.unpark(other);
            }
        }
    }

    /**
     * Called by the writer after {@link #markDurable} returned this ticket's waiter, before it
     * unparks that waiter: the waiter, once woken, unparks {@code others} itself. Returns false when
     * the waiter had already left (then the caller must unpark {@code others}). Why: on a carrier
     * whose sibling carriers are idle, each unpark from the writer wakes a sibling that takes the one
     * task and parks again; unparked from the first appender instead (usually on a sibling the
     * writer's first unpark woke, while the writer's carrier is still busy), they are plain pushes.
     */
    boolean handOverRelay(List<Thread> others) {
        return RELAY.compareAndSet(this, null, others);
    }

    /**
     * Called by the writer thread once the append is durable. Returns the thread waiting on the
     * ticket, which the caller must unpark, or null when none waits (a thread that starts waiting
     * later sees the new state without parking).
     */
    Thread markDurable() {
        if (state == FAILED) {
            throw new IllegalStateException("the append up to index " + lastIndexAfter + " was already reported failed; it cannot become durable");
        }
        state = DURABLE;
        return waiter;
    }

    /** Called once, when the WAL failed before the append was durable. */
    void markFailed(Throwable cause) {
        if (state != PENDING) {
            return;
        }
        failure = cause;
        state = FAILED;
        Thread thread = waiter;
        if (thread != null) {
            LockSupport.unpark(thread);
        }
    }
}
