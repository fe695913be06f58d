package io.loomkv.net.node;

import io.loomkv.net.rpc.RpcEndpoint;
import io.loomkv.net.store.proto.GroupMessage;
import io.loomkv.net.store.proto.RaftBatch;
import java.util.concurrent.locks.ReentrantLock;
import org.jctools.queues.MpscArrayQueue;

/**
 * The messages queued for one peer store, sent as one {@link RaftBatch} frame per flush: every
 * group's messages that were queued together travel together, so the heartbeats of all groups in
 * one tick cost one frame between two stores instead of one per group. Any thread may queue; a
 * flush is done by whichever thread gets the lock, and a flush that lost the race leaves nothing
 * behind (the winner drains until empty, and re-checks after unlocking).
 */
final class PeerOutbox {
    /** Messages waiting for one store; beyond it a message is refused and Raft resends it later. */
    static final int CAPACITY_MESSAGES = 16_384;
    /** A batch is cut after this many bytes of messages (frames are limited to 16 MiB). */
    static final long MAX_BATCH_BYTES = 4L << 20;
    static final int MAX_BATCH_MESSAGES = 4_096;

    private final long storeId;
    private final MpscArrayQueue<GroupMessage> queue = new MpscArrayQueue<>(CAPACITY_MESSAGES);
    private final ReentrantLock flushLock = new ReentrantLock();
    private volatile long lastSentNanos;

    PeerOutbox(long storeId) {
        this.storeId = storeId;
    }

    long storeId() {
        return storeId;
    }

    boolean offer(GroupMessage message) {
        return queue.offer(message);
    }

    boolean isEmpty() {
        return queue.isEmpty();
    }

    /** When a frame last went to this store. */
    long lastSentNanos() {
        return lastSentNanos;
    }

    void markSent(long nowNanos) {
        lastSentNanos = nowNanos;
    }

    /** Sends what is queued to {@code endpoint}; returns the number of messages that could not be sent (dropped). */
    int flush(RpcEndpoint endpoint, long nowNanos) {
        int dropped = 0;
        while (!queue.isEmpty()) {
            if (!flushLock.tryLock()) {
                return dropped; // The holder drains until empty and re-checks after unlocking.
            }
            try {
                while (!queue.isEmpty()) {
                    dropped += sendOneBatch(endpoint);
                }
                lastSentNanos = nowNanos;
            } finally {
                flushLock.unlock();
            }
        }
        return dropped;
    }

    private int sendOneBatch(RpcEndpoint endpoint) {
        RaftBatch.Builder batch = RaftBatch.newBuilder();
        long bytes = 0;
        GroupMessage message;
        while (batch.getMessagesCount() < MAX_BATCH_MESSAGES && bytes < MAX_BATCH_BYTES
                && (message = queue.poll()) != null) {
            batch.addMessages(message);
            bytes += message.getSerializedSize();
        }
        int count = batch.getMessagesCount();
        if (count == 0) {
            return 0;
        }
        // false: no open connection (a reconnect was started) or a full send queue; Raft resends.
        return endpoint.send(NodeMethods.RAFT_BATCH, batch.build()) ? 0 : count;
    }
}
