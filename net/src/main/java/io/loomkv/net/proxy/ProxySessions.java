package io.loomkv.net.proxy;

import io.loomkv.core.kv.KvReplies;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.Status;
import java.security.SecureRandom;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The proxy's own client sessions: what makes a caller's retried write exactly-once through the
 * proxy. A store's session ids belong to one group, and the proxy forwards each write through its
 * own sessions (one per group and upstream client), so it cannot pass a caller's ids on. Instead
 * it answers OpenSession with an id of its own, and for each session remembers the outcome of
 * every write by its sequence until the caller acknowledges it: a copy of a write that is in
 * flight joins it, a copy of a finished one gets the first reply, whatever it was (an error too:
 * a multi-put across groups may have been applied in part, so sending it on again is never safe).
 *
 * <p>Ids carry a random per-proxy prefix, so an id from another proxy, or from this one before a
 * restart, is unknown here and answered {@code SESSION_EXPIRED}: the write is not applied, and
 * writes of that session still without a reply are in doubt, as with a store's expired session.
 * Sessions are forgotten after an idle timeout and beyond a count (least recently used first).
 * One lock guards the table; it is never held while a write is forwarded.
 */
final class ProxySessions {
    /** A session's writes by sequence, and the sequence below which the caller holds every reply. */
    private static final class Session {
        final TreeMap<Long, CompletableFuture<KvReply>> replies = new TreeMap<>();
        long acknowledgedBelow = 1;
        long lastUsedNanos;
    }

    private final int maxSessions;
    private final long idleTimeoutNanos;
    private final int maxUnacknowledgedWrites;
    /** The upper half of every id this proxy hands out (below 2^62: ids must stay positive). */
    private final long idPrefix;
    private final ReentrantLock lock = new ReentrantLock();
    private final LinkedHashMap<Long, Session> sessions = new LinkedHashMap<>(16, 0.75f, true); // guarded by lock
    private long nextId = 1; // guarded by lock

    ProxySessions(ProxyConfig config) {
        this.maxSessions = config.maxSessions();
        this.idleTimeoutNanos = config.sessionIdleTimeout().toNanos();
        this.maxUnacknowledgedWrites = config.maxUnacknowledgedWrites();
        this.idPrefix = (1 + new SecureRandom().nextLong(1L << 30)) << 32;
    }

    /** Opens a session; returns its id. */
    long open() {
        lock.lock();
        try {
            long now = System.nanoTime();
            expireIdle(now);
            while (sessions.size() >= maxSessions) {
                Iterator<Long> eldest = sessions.keySet().iterator();
                eldest.next();
                eldest.remove();
            }
            if (nextId >= 1L << 32) {
                throw new IllegalStateException("this proxy opened 2^32 sessions: restart it for a new id prefix");
            }
            long id = idPrefix | nextId++;
            Session session = new Session();
            session.lastUsedNanos = now;
            sessions.put(id, session);
            return id;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The reply to write {@code sequence} of session {@code clientId}: the first copy starts
     * {@code forward} and records its future, later copies get that same future.
     */
    CompletableFuture<KvReply> write(long clientId, long sequence, long acknowledgedBelow,
            Supplier<CompletableFuture<KvReply>> forward) {
        CompletableFuture<KvReply> placeholder = new CompletableFuture<>();
        lock.lock();
        try {
            long now = System.nanoTime();
            expireIdle(now);
            Session session = sessions.get(clientId);
            if (session == null) {
                return done(KvReplies.error(Status.SESSION_EXPIRED, "session " + clientId + " is unknown at this proxy (expired,"
                        + " forgotten, opened at another proxy or before a restart): the write was not applied; open a new"
                        + " session, and treat this session's writes still without a reply as in doubt"));
            }
            session.lastUsedNanos = now;
            if (acknowledgedBelow > session.acknowledgedBelow) {
                session.acknowledgedBelow = acknowledgedBelow;
                session.replies.headMap(acknowledgedBelow).clear();
            }
            if (sequence < session.acknowledgedBelow) {
                return done(KvReplies.error(Status.STALE_SEQUENCE, "write " + sequence + " of session " + clientId
                        + " was already answered (the client acknowledged every write below " + session.acknowledgedBelow + ")"));
            }
            CompletableFuture<KvReply> first = session.replies.get(sequence);
            if (first != null) {
                return first;
            }
            if (session.replies.size() >= maxUnacknowledgedWrites) {
                return done(KvReplies.error(Status.RESOURCE_EXHAUSTED, "session " + clientId + " has " + maxUnacknowledgedWrites
                        + " writes whose replies are not acknowledged (the proxy's limit): the write was not applied"));
            }
            session.replies.put(sequence, placeholder);
        } finally {
            lock.unlock();
        }
        // Forwarded outside the lock: it may wait for a free write slot of an upstream session.
        CompletableFuture<KvReply> reply;
        try {
            reply = forward.get();
        } catch (RuntimeException e) {
            reply = CompletableFuture.failedFuture(e);
        }
        reply.whenComplete((answer, failure) -> {
            if (failure != null) {
                placeholder.completeExceptionally(failure);
            } else {
                placeholder.complete(answer);
            }
        });
        return placeholder;
    }

    /** Sessions kept now. */
    int size() {
        lock.lock();
        try {
            return sessions.size();
        } finally {
            lock.unlock();
        }
    }

    private void expireIdle(long now) {
        // Access order: the least recently used come first, so the scan stops at the first live one.
        Iterator<Map.Entry<Long, Session>> eldest = sessions.entrySet().iterator();
        while (eldest.hasNext()) {
            if (now - eldest.next().getValue().lastUsedNanos < idleTimeoutNanos) {
                return;
            }
            eldest.remove();
        }
    }

    private static CompletableFuture<KvReply> done(KvReply reply) {
        return CompletableFuture.completedFuture(reply);
    }
}
