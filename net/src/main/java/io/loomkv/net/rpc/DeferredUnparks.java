package io.loomkv.net.rpc;

import java.util.concurrent.locks.LockSupport;

/**
 * Wake-ups that a worker thread puts off until the end of its pass, so that the thread it wakes
 * finds everything the pass produced for it at once.
 *
 * <p>Why: with many Raft groups on a store, a pass of an apply thread completes the requests of
 * several groups, and a client connection's requests in flight belong to several groups; each
 * completion woke the connection's writer again. Likewise a Raft worker's pass hands committed
 * entries of several groups to an apply thread, and each hand-off woke it. Deferred to the end of
 * the pass, 45% of the wake-ups asked for are made (the rest find their thread already due), and
 * 16 groups did 24% more operations per second at 28% less server CPU per operation; replies per
 * socket write hardly changed (docs/performance.md, eighteenth session).
 *
 * <p>A worker {@linkplain #openForCurrentThread opens} a batch for its own thread once, and
 * {@linkplain #release releases} it at the end of each pass and before anything that may block
 * (parking, or waiting for room that a thread it deferred must make). Only wake-ups that go
 * through {@link #unpark} are deferred (those of connection writers and apply threads); every
 * other wake-up of the thread is immediate. A thread without a batch unparks at once.
 */
public final class DeferredUnparks {
    /** Distinct threads one batch holds; a wake-up beyond them happens at once. */
    static final int MAX_THREADS = 64;
    private static final ThreadLocal<DeferredUnparks> CURRENT = new ThreadLocal<>();

    private final Thread owner;
    private final Thread[] threads = new Thread[MAX_THREADS];
    private int count;
    private long deferred;
    private long released;

    private DeferredUnparks(Thread owner) {
        this.owner = owner;
    }

    /** Opens the calling thread's batch (once, for the thread's life): its {@link #unpark} calls wait for {@link #release}. */
    public static DeferredUnparks openForCurrentThread() {
        if (CURRENT.get() != null) {
            throw new IllegalStateException(Thread.currentThread() + " already has a batch of deferred unparks");
        }
        DeferredUnparks batch = new DeferredUnparks(Thread.currentThread());
        CURRENT.set(batch);
        return batch;
    }

    /** Unparks {@code thread} now, or when the calling thread's batch is released if it has one. */
    public static void unpark(Thread thread) {
        DeferredUnparks batch = CURRENT.get();
        if (batch == null || !batch.defer(thread)) {
            LockSupport.unpark(thread);
        }
    }

    /** Releases the calling thread's batch if it has one: before a wait for something a deferred thread must do. */
    public static void releaseCurrent() {
        DeferredUnparks batch = CURRENT.get();
        if (batch != null) {
            batch.release();
        }
    }

    private boolean defer(Thread thread) {
        for (int i = 0; i < count; i++) {
            if (threads[i] == thread) {
                deferred++;
                return true;
            }
        }
        if (count == threads.length) {
            return false;
        }
        threads[count++] = thread;
        deferred++;
        return true;
    }

    /** Unparks every thread deferred since the last release; the owner only. */
    public void release() {
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("a batch of deferred unparks is released by its owner " + owner
                    + ", not by " + Thread.currentThread());
        }
        for (int i = 0; i < count; i++) {
            LockSupport.unpark(threads[i]);
            threads[i] = null;
        }
        released += count;
        count = 0;
    }

    /** Wake-ups deferred so far (a thread asked for twice in one batch counts twice); the owner only. */
    long deferredCount() {
        return deferred;
    }

    /** Unparks done by releases so far; the owner only. */
    long releasedCount() {
        return released;
    }
}
