package io.loomkv.persist.wal;

import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The bounded queue between appenders and the writer thread. Unlike a plain blocking queue, the
 * writer can say how many requests it is waiting for, and appenders wake it only once that many
 * are there: while the writer gathers a group for the next force, 64 arrivals cost one wake-up
 * instead of 64 (each a context switch on a busy machine). Requests are counted one each, however
 * many records they carry: what the writer waits for is appenders coming back, and one appender's
 * append is one request (the Raft loop appends a whole batch as one request and waits for it;
 * counting its records instead made the writer hold every force whose batch was smaller than the
 * one before, for the full delay, waiting for records that were never coming).
 */
final class AppendQueue {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition enoughForWriter = lock.newCondition();
    private final Condition notFull = lock.newCondition();
    private final ArrayDeque<WalRequest> items;
    private final int capacity;
    private volatile long queuedCount; // written under the lock; volatile so the writer can estimate it without the lock
    private long writerWantsCount; // 0 while the writer is not waiting
    private long firstArrivalNanos; // System.nanoTime() when the queue last went from empty to non-empty
    private boolean waitsStopped; // set once, when the WAL closes: the writer's waits return at once

    AppendQueue(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be positive, got " + capacity);
        }
        this.capacity = capacity;
        this.items = new ArrayDeque<>(Math.min(capacity, 1024));
    }

    /** Adds {@code request}, waiting up to {@code timeout} for room; false when there was none. */
    boolean offer(WalRequest request, long timeout, TimeUnit unit) throws InterruptedException {
        long nanos = unit.toNanos(timeout);
        lock.lockInterruptibly();
        try {
            while (items.size() >= capacity) {
                if (nanos <= 0) {
                    return false;
                }
                nanos = notFull.awaitNanos(nanos);
            }
            if (items.isEmpty()) {
                firstArrivalNanos = System.nanoTime();
            }
            items.addLast(request);
            queuedCount++;
            if (writerWantsCount > 0 && queuedCount >= writerWantsCount) {
                enoughForWriter.signal();
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until at least {@code minCount} requests are queued or {@code timeoutNanos} passed,
     * then moves up to {@code maxCount} requests (whatever is there) into {@code out}. Returns how
     * many requests it moved.
     */
    int awaitAndDrain(List<WalRequest> out, long minCount, long timeoutNanos, int maxCount) throws InterruptedException {
        long nanos = timeoutNanos;
        lock.lockInterruptibly();
        try {
            writerWantsCount = Math.max(1, minCount);
            try {
                while (queuedCount < minCount && nanos > 0 && !waitsStopped) {
                    nanos = enoughForWriter.awaitNanos(nanos);
                }
            } finally {
                writerWantsCount = 0;
            }
            return moveTo(out, maxCount);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Gathers a group for the next force in one wait: waits until requests of at least
     * {@code minCount} are queued, but no longer than {@code holdNanos} after the first of them
     * arrived, and when none arrives, no longer than {@code firstWithinNanos} from now. Then moves
     * up to {@code maxCount} requests into {@code out} and returns how many it moved (0 when none
     * came). Appenders wake the writer only when the group is complete, so a whole group of
     * returning appenders usually costs the writer a single wake-up.
     */
    int awaitGroup(List<WalRequest> out, long minCount, long holdNanos, long firstWithinNanos, int maxCount)
            throws InterruptedException {
        long start = System.nanoTime();
        lock.lockInterruptibly();
        try {
            writerWantsCount = Math.max(1, minCount);
            try {
                while (queuedCount < minCount) {
                    long deadline = items.isEmpty() ? start + firstWithinNanos : Math.max(start, firstArrivalNanos) + holdNanos;
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        break;
                    }
                    enoughForWriter.awaitNanos(left);
                }
            } finally {
                writerWantsCount = 0;
            }
            return moveTo(out, maxCount);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Wakes the writer if it waits in {@link #awaitAndDrain}, and makes its later waits return at
     * once: the WAL is closing, and the writer should notice now rather than when its idle wait runs out.
     */
    void stopWaits() {
        lock.lock();
        try {
            waitsStopped = true;
            enoughForWriter.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Moves up to {@code maxCount} queued requests into {@code out} without waiting; returns how many. */
    int drainAvailable(List<WalRequest> out, int maxCount) {
        lock.lock();
        try {
            return moveTo(out, maxCount);
        } finally {
            lock.unlock();
        }
    }

    private int moveTo(List<WalRequest> out, int maxCount) {
        int moved = 0;
        while (moved < maxCount && !items.isEmpty()) {
            WalRequest request = items.pollFirst();
            queuedCount--;
            out.add(request);
            moved++;
        }
        if (moved > 0) {
            notFull.signalAll();
        }
        return moved;
    }

    int size() {
        lock.lock();
        try {
            return items.size();
        } finally {
            lock.unlock();
        }
    }

    /** How many requests are queued right now, read without the lock (appenders may be adding to it). */
    long queuedCountEstimate() {
        return queuedCount;
    }

    /** Moves everything queued into {@code out} (used to fail it all when the WAL stops). */
    void drainAll(List<WalRequest> out) {
        lock.lock();
        try {
            out.addAll(items);
            items.clear();
            queuedCount = 0;
            notFull.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
