package io.loomkv.core.raft;

import com.google.protobuf.ByteString;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The leader's ReadIndex requests waiting for a heartbeat round to confirm leadership
 * (etcd's readOnly). A quorum acknowledging the heartbeat that carries a request's context
 * also confirms every request queued before it, so one round serves all of them.
 */
final class ReadOnlyQueue {
    /** A pending read: who asked (0 for a local read), its context, and the commit index at arrival. */
    record Request(long from, ByteString context, long index, Set<Long> acks) {
    }

    private final int maxPending;
    private final Map<ByteString, Request> pending = new HashMap<>();
    private final ArrayDeque<ByteString> queue = new ArrayDeque<>();

    ReadOnlyQueue(int maxPending) {
        this.maxPending = maxPending;
    }

    boolean isFull() {
        return pending.size() >= maxPending;
    }

    boolean contains(ByteString context) {
        return pending.containsKey(context);
    }

    /** Queues a read at {@code index}; a context already pending is ignored. */
    void add(long index, long from, ByteString context) {
        if (pending.containsKey(context)) {
            return;
        }
        if (isFull()) {
            throw new IllegalStateException("read queue full: " + pending.size() + " >= " + maxPending);
        }
        pending.put(context, new Request(from, context, index, new HashSet<>()));
        queue.addLast(context);
    }

    /** Records {@code id}'s acknowledgement of {@code context}; returns who acknowledged it so far, or null. */
    Set<Long> recvAck(long id, ByteString context) {
        Request r = pending.get(context);
        if (r == null) {
            return null;
        }
        r.acks().add(id);
        return r.acks();
    }

    /** Removes and returns every request up to and including {@code context}. */
    List<Request> advance(ByteString context) {
        if (!pending.containsKey(context)) {
            return List.of();
        }
        List<Request> done = new ArrayList<>();
        while (!queue.isEmpty()) {
            ByteString c = queue.pollFirst();
            Request r = pending.remove(c);
            if (r == null) {
                throw new IllegalStateException("read queue out of sync at context " + c);
            }
            done.add(r);
            if (c.equals(context)) {
                break;
            }
        }
        return done;
    }

    /** The context of the newest pending request, or null. */
    ByteString lastPendingContext() {
        return queue.peekLast();
    }

    int size() {
        return pending.size();
    }

    void clear() {
        pending.clear();
        queue.clear();
    }
}
