package io.loomkv.net.client;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The client's exactly-once session with one group: the session id the group handed out, the
 * write sequence numbers, and the window of writes still awaiting their replies. Each group keeps
 * its own sessions (a write is deduplicated by the group that applies it), so a client has one of
 * these per group it writes to; session ids embed the group, so they never collide. Public for
 * the Redis-protocol endpoint of a store, which numbers its connections' writes the same way.
 */
public final class WriteSession {
    private final int maxWritesInFlight;
    private final ReentrantLock sessionLock = new ReentrantLock();
    private final ReentrantLock sequenceLock = new ReentrantLock();
    private final Condition windowOpen = sequenceLock.newCondition();
    private final ConcurrentSkipListSet<Long> unacknowledged = new ConcurrentSkipListSet<>();
    private long nextSequence = 1; // guarded by sequenceLock
    private CompletableFuture<Long> session; // guarded by sessionLock

    public WriteSession(int maxWritesInFlight) {
        this.maxWritesInFlight = maxWritesInFlight;
    }

    /** The session id, opening the session with {@code open} when there is none (or the last attempt failed). */
    public CompletableFuture<Long> clientId(Supplier<CompletableFuture<Long>> open) {
        sessionLock.lock();
        try {
            if (session == null || session.isCompletedExceptionally()) {
                session = open.get();
            }
            return session;
        } finally {
            sessionLock.unlock();
        }
    }

    /**
     * Whether the session is open and has no write waiting for its reply: another user may then
     * take it over and go on from the next sequence (every reply so far was received).
     */
    public boolean idle() {
        sessionLock.lock();
        try {
            return session != null && session.isDone() && !session.isCompletedExceptionally() && unacknowledged.isEmpty();
        } finally {
            sessionLock.unlock();
        }
    }

    /** The group said the session expired: the next write opens a new one. */
    public void reset(CompletableFuture<Long> expired) {
        sessionLock.lock();
        try {
            if (session == expired) {
                session = null;
            }
        } finally {
            sessionLock.unlock();
        }
    }

    /**
     * Allocates the next write sequence once it is within {@code maxWritesInFlight} of the oldest
     * write still waiting (the group caches a reply for every sequence from the acknowledged mark
     * up, so it is the span that is bounded, not just the count). Allocation and registration are
     * one step: otherwise a concurrent write could acknowledge past a sequence allocated but not
     * yet registered, and the group would refuse it as stale.
     *
     * @return the sequence, or 0 when no slot freed up before the deadline
     */
    public long allocate(long deadlineNanos) throws InterruptedException {
        sequenceLock.lock();
        try {
            while (!unacknowledged.isEmpty() && nextSequence - unacknowledged.first() >= maxWritesInFlight) {
                long remaining = deadlineNanos - System.nanoTime();
                if (remaining <= 0) {
                    return 0;
                }
                windowOpen.awaitNanos(remaining);
            }
            long sequence = nextSequence++;
            unacknowledged.add(sequence);
            return sequence;
        } finally {
            sequenceLock.unlock();
        }
    }

    public void release(long sequence) {
        sequenceLock.lock();
        try {
            unacknowledged.remove(sequence);
            windowOpen.signalAll();
        } finally {
            sequenceLock.unlock();
        }
    }

    /** Every write below the oldest one still waiting was answered: the group may forget those replies. */
    public long acknowledgedBelow(long sequence) {
        sequenceLock.lock();
        try {
            return unacknowledged.isEmpty() ? sequence : Math.min(unacknowledged.first(), sequence);
        } finally {
            sequenceLock.unlock();
        }
    }
}
