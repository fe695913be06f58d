package io.loomkv.net.frame;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The deadline of one connection's current blocking read, enforced by another thread: the
 * reader {@linkplain #arm arms} it before it blocks and {@linkplain #disarm disarms} it after,
 * and a watchdog that sweeps all connections calls {@link #expireIfDue}, which stops the read
 * (through {@code onExpiry}, e.g. shutting the socket's input) when the deadline has passed.
 *
 * <p>Why not the socket's own read timeout: on a virtual thread a read with a timeout that has to
 * wait parks with a timeout, which arms a timer on the scheduler's delay thread and cancels it
 * again when data arrives, once per request on every connection. At 1 client writing, those
 * timers made the leader's delay thread its busiest in context switches. Arming this costs a
 * clock read and two atomic writes, and the watchdog wakes a few times a second at most.
 *
 * <p>Exactly one side wins: the watchdog expires the deadline only if it is still the one armed
 * (compare-and-set), and a reader that disarms learns whether it lost; so a read that completed
 * just in time is never cut off, and a read that was cut off always reports the timeout.
 */
public final class ReadDeadline {
    private static final long DISARMED = Long.MIN_VALUE;
    private static final long EXPIRED = Long.MIN_VALUE + 1;

    private final AtomicLong deadlineNanos = new AtomicLong(DISARMED);
    private final Runnable onExpiry;

    /** @param onExpiry stops the blocked read (it must make the read return or throw); run by the watchdog */
    public ReadDeadline(Runnable onExpiry) {
        this.onExpiry = onExpiry;
    }

    /** Reader: the read about to block must end by {@code nanos} ({@link System#nanoTime()} time). */
    void arm(long nanos) {
        if (nanos == DISARMED || nanos == EXPIRED) {
            nanos += 2; // Keep the two markers unambiguous; 2 ns later changes nothing.
        }
        if (deadlineNanos.get() == EXPIRED) {
            return; // Already cut off: stays expired, the read fails at once.
        }
        deadlineNanos.set(nanos);
    }

    /** Reader: the read returned; true when it was in time, false when the watchdog had cut it off. */
    boolean disarm() {
        long previous = deadlineNanos.get();
        // Only the watchdog changes an armed deadline, and only to EXPIRED: a failed swap means it did.
        return previous != EXPIRED && deadlineNanos.compareAndSet(previous, DISARMED);
    }

    /** True once the watchdog cut a read off. */
    boolean expired() {
        return deadlineNanos.get() == EXPIRED;
    }

    /** Watchdog: cuts the armed read off if its deadline has passed; true when it did. */
    public boolean expireIfDue(long nowNanos) {
        long deadline = deadlineNanos.get();
        if (deadline == DISARMED || deadline == EXPIRED || nowNanos - deadline < 0) {
            return false;
        }
        if (!deadlineNanos.compareAndSet(deadline, EXPIRED)) {
            return false; // The read returned (or re-armed) meanwhile.
        }
        onExpiry.run();
        return true;
    }
}
