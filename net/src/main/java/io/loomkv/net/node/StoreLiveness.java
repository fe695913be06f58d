package io.loomkv.net.node;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Which peer stores are alive, judged by when we last heard anything from them (a Raft batch, a
 * store heartbeat, a handshake). One judgement per store, not per group: quiet groups send
 * nothing, so their followers rely on this to notice that their leader's store died (CockroachDB
 * uses node liveness the same way for quiesced ranges).
 *
 * <p>A store not heard from since we started counts as alive for the first timeout, so that a
 * store starting before its peers does not wake every quiet group at once.
 */
final class StoreLiveness {
    private final long timeoutNanos;
    private final long startNanos;
    private final ConcurrentHashMap<Long, AtomicLong> lastHeardNanos = new ConcurrentHashMap<>();

    StoreLiveness(long timeoutNanos, long nowNanos) {
        if (timeoutNanos <= 0) {
            throw new IllegalArgumentException("liveness timeout must be positive, got " + timeoutNanos);
        }
        this.timeoutNanos = timeoutNanos;
        this.startNanos = nowNanos;
    }

    /** Called on every inbound frame from {@code storeId}: cheap (one volatile write). */
    void heard(long storeId, long nowNanos) {
        AtomicLong last = lastHeardNanos.get(storeId);
        if (last == null) {
            last = lastHeardNanos.computeIfAbsent(storeId, id -> new AtomicLong(nowNanos));
        }
        last.set(nowNanos);
    }

    boolean isLive(long storeId, long nowNanos) {
        return nowNanos - lastHeard(storeId) < timeoutNanos;
    }

    /** When we last heard from {@code storeId} (our start time if never). */
    long lastHeard(long storeId) {
        AtomicLong last = lastHeardNanos.get(storeId);
        return last == null ? startNanos : last.get();
    }

    long timeoutNanos() {
        return timeoutNanos;
    }
}
