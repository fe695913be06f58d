package io.loomkv.net.resp;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;

/**
 * One connection's replies in request order, from its reader (which adds each request's reply to
 * come) to its writer (which takes them as they are done, oldest first).
 *
 * <p>The writer is woken by the completion of the reply it waits for, never by the reader's add:
 * with one request in flight, as with {@code redis-benchmark -P 1} and most request-reply clients,
 * a wake at the add would only have the writer park again on the reply, a second virtual-thread
 * switch per request (freeze, thaw and a carrier wake-up) on top of the one the reply's completion
 * costs (docs/performance.md, "The RESP endpoint's own cost"). A completion wakes the writer only
 * when its reply is the oldest one, so a pipeline whose replies complete out of order wakes it once
 * per reply it can write, not once per completion.
 *
 * <p>Bounded by the connection: the reader adds at most its in-flight limit of requests, plus one
 * last entry (the end of input or a last error).
 */
final class ReplyQueue {
    /** One request's reply to come, and how to write it. */
    static final class Entry {
        private final CompletableFuture<RespReply> reply;
        private final int protocol;
        private final boolean last;
        private final boolean endOfInput;
        private final long readNanos;
        /** Set by {@link #expireOldest} when the reply took longer than the reply timeout. */
        private volatile boolean overdue;

        private Entry(CompletableFuture<RespReply> reply, int protocol, boolean last, boolean endOfInput, long readNanos) {
            this.reply = reply;
            this.protocol = protocol;
            this.last = last;
            this.endOfInput = endOfInput;
            this.readNanos = readNanos;
        }

        /** The reply, in {@code protocol} (2 or 3); {@code last}: the connection closes after it. */
        static Entry of(CompletableFuture<RespReply> reply, int protocol, boolean last) {
            return new Entry(reply, protocol, last, false, System.nanoTime());
        }

        /** The client closed its side: write what came before, then close. */
        static Entry endOfInput() {
            return new Entry(CompletableFuture.completedFuture(null), 2, true, true, System.nanoTime());
        }

        CompletableFuture<RespReply> reply() {
            return reply;
        }

        int protocol() {
            return protocol;
        }

        /** The connection closes once this entry is written. */
        boolean last() {
            return last;
        }

        /** No reply: the client closed its side after the requests before it. */
        boolean isEndOfInput() {
            return endOfInput;
        }

        /** No reply came within the reply timeout; the writer answers an error in its place. */
        boolean overdue() {
            return overdue;
        }

        private boolean ready() {
            return overdue || reply.isDone();
        }
    }

    private final ConcurrentLinkedQueue<Entry> entries = new ConcurrentLinkedQueue<>();
    private volatile Thread writer;
    /** The writer is parked (or about to park) until the oldest reply is ready. */
    private volatile boolean writerWaiting;

    /** Names the thread that calls {@link #takeReady}, before the first call. */
    void writerIs(Thread thread) {
        writer = thread;
    }

    /** Reader: appends the reply to come of the request just read. */
    void add(Entry entry) {
        entries.add(entry);
        entry.reply.whenComplete((reply, failure) -> wakeIfOldest(entry));
    }

    /** The oldest entry if its reply is ready (done or overdue), removed; else null. Writer only. */
    Entry pollReady() {
        Entry oldest = entries.peek();
        if (oldest == null || !oldest.ready()) {
            return null;
        }
        entries.poll();
        return oldest;
    }

    /**
     * Waits until the oldest entry's reply is ready and removes it. Writer only.
     *
     * @throws InterruptedException when the connection closes meanwhile
     */
    Entry takeReady() throws InterruptedException {
        while (true) {
            Entry ready = pollReady();
            if (ready != null) {
                return ready;
            }
            // Announce the wait, then look again: a completion between the look above and the park
            // sees the flag and unparks (both sides write, then read, volatile fields).
            writerWaiting = true;
            ready = pollReady();
            if (ready != null) {
                writerWaiting = false;
                return ready;
            }
            LockSupport.park(this);
            writerWaiting = false;
            if (Thread.interrupted()) {
                throw new InterruptedException("resp connection writer interrupted");
            }
        }
    }

    /**
     * Marks the oldest reply overdue when it has waited longer than {@code timeoutNanos} since its
     * request was read, so the writer answers an error in its place (and the replies after it can
     * go). Returns whether it did. Any thread (the server's reply-timeout sweep).
     */
    boolean expireOldest(long nowNanos, long timeoutNanos) {
        Entry oldest = entries.peek();
        if (oldest == null || oldest.ready() || nowNanos - oldest.readNanos < timeoutNanos) {
            return false;
        }
        oldest.overdue = true;
        wakeIfOldest(oldest);
        return true;
    }

    private void wakeIfOldest(Entry entry) {
        if (writerWaiting && entries.peek() == entry) {
            LockSupport.unpark(writer);
        }
    }
}
