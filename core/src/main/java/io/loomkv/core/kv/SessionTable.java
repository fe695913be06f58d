package io.loomkv.core.kv;

import io.loomkv.core.kv.proto.CachedReply;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.SessionState;
import io.loomkv.core.shard.GroupIds;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The client sessions of the exactly-once machinery, in least-recently-used order.
 *
 * <p>Every change here happens while applying a log entry, with times taken from the log, so
 * the table is identical on every replica at the same log index. Because the log clock never
 * goes backwards and every use of a session moves it to the back, the front of the order is
 * both the least recently used and the longest idle session: expiry and eviction both only
 * look at the front.
 *
 * <p>Client ids are {@code (groupId << 40) + n}, n counting up from 1 ({@link GroupIds}), so the
 * sessions of different groups never share an id.
 */
final class SessionTable {

    private final SessionPolicy policy;
    private final long groupId;
    /** Insertion-ordered; {@link #touch} re-inserts, so iteration order is LRU first. */
    private final LinkedHashMap<Long, Session> sessions = new LinkedHashMap<>();
    private long nextClientId;

    SessionTable(SessionPolicy policy, long groupId) {
        this.policy = Objects.requireNonNull(policy, "policy");
        this.groupId = GroupIds.requireGroup(groupId);
        this.nextClientId = GroupIds.firstClientId(groupId);
    }

    int size() {
        return sessions.size();
    }

    long nextClientId() {
        return nextClientId;
    }

    /** The session of {@code clientId}, or null when it is unknown (expired, evicted, never opened). */
    Session find(long clientId) {
        return sessions.get(clientId);
    }

    /**
     * Opens a new session active at {@code nowMillis}, evicting least recently used sessions
     * first if the table is full, and returns it; null, changing nothing, when the group has
     * handed out every id it has.
     */
    Session open(long nowMillis) {
        if (nextClientId > GroupIds.lastClientId(groupId)) {
            return null;
        }
        while (sessions.size() >= policy.maxSessions()) {
            Iterator<Session> oldest = sessions.values().iterator();
            oldest.next();
            oldest.remove();
        }
        long clientId = nextClientId++;
        Session session = new Session(clientId, nowMillis, 1);
        sessions.put(clientId, session);
        return session;
    }

    /** Marks {@code session} used at {@code nowMillis} and moves it to the back of the LRU order. */
    void touch(Session session, long nowMillis) {
        if (nowMillis < session.lastActiveMillis) {
            throw new IllegalStateException("log clock went backwards for session " + session.clientId
                    + ": " + nowMillis + " < " + session.lastActiveMillis);
        }
        session.lastActiveMillis = nowMillis;
        sessions.remove(session.clientId);
        sessions.put(session.clientId, session);
    }

    /** Removes every session idle for more than the timeout at log time {@code nowMillis}; returns how many. */
    int expire(long nowMillis) {
        int expired = 0;
        Iterator<Session> it = sessions.values().iterator();
        while (it.hasNext()) {
            Session session = it.next();
            if (nowMillis - session.lastActiveMillis <= policy.sessionTimeoutMillis()) {
                break;
            }
            it.remove();
            expired++;
        }
        return expired;
    }

    /** The sessions, least recently used first (a read-only view). */
    Collection<Session> inLruOrder() {
        return Collections.unmodifiableCollection(sessions.values());
    }

    /**
     * Adds a session read from a snapshot at the back of the LRU order. Throws
     * IllegalArgumentException when the record contradicts the table (duplicate id, id not below
     * the next id, idle order not ascending, replies outside the window).
     */
    void restore(SessionState state, List<CachedReply> cachedReplies) {
        long clientId = state.getClientId();
        if (clientId < GroupIds.firstClientId(groupId) || clientId >= nextClientId) {
            throw new IllegalArgumentException("session " + Long.toUnsignedString(clientId)
                    + " is not one of group " + groupId + "'s ids below next client id " + nextClientId);
        }
        if (sessions.containsKey(clientId)) {
            throw new IllegalArgumentException("duplicate session " + clientId);
        }
        if (sessions.size() >= policy.maxSessions()) {
            throw new IllegalArgumentException("more sessions than maxSessions " + policy.maxSessions());
        }
        long lastActive = state.getLastActiveMillis();
        if (!sessions.isEmpty() && lastActive < sessions.lastEntry().getValue().lastActiveMillis) {
            throw new IllegalArgumentException("session " + clientId + " is out of least-recently-used order");
        }
        if (state.getAcknowledgedBelow() <= 0) {
            throw new IllegalArgumentException("session " + clientId + " has acknowledged_below "
                    + Long.toUnsignedString(state.getAcknowledgedBelow()));
        }
        if (state.getReplyCount() != cachedReplies.size()) {
            throw new IllegalArgumentException("session " + clientId + " announces " + state.getReplyCount()
                    + " cached replies but has " + cachedReplies.size());
        }
        if (cachedReplies.size() > policy.maxUnacknowledgedReplies()) {
            throw new IllegalArgumentException("session " + clientId + " holds " + cachedReplies.size()
                    + " replies, over maxUnacknowledgedReplies " + policy.maxUnacknowledgedReplies());
        }
        Session session = new Session(clientId, lastActive, state.getAcknowledgedBelow());
        for (CachedReply cached : cachedReplies) {
            if (cached.getSequence() < session.acknowledgedBelow || session.replies.containsKey(cached.getSequence())) {
                throw new IllegalArgumentException("session " + clientId + " has an invalid cached reply for sequence "
                        + Long.toUnsignedString(cached.getSequence()));
            }
            session.replies.put(cached.getSequence(), cached.getReply());
        }
        sessions.put(clientId, session);
    }

    /** Sets the next client id, when restoring; must come before {@link #restore}. */
    void restoreNextClientId(long value) {
        if (value < GroupIds.firstClientId(groupId) || value > GroupIds.lastClientId(groupId) + 1 || !sessions.isEmpty()) {
            throw new IllegalArgumentException("next client id " + Long.toUnsignedString(value)
                    + " is not in group " + groupId + "'s session ids");
        }
        nextClientId = value;
    }

    /** One client's dedup state: the replies it has not acknowledged yet, by sequence. */
    static final class Session {
        final long clientId;
        long lastActiveMillis;
        /** The client has received every reply below this sequence. */
        long acknowledgedBelow;
        final TreeMap<Long, KvReply> replies = new TreeMap<>();

        Session(long clientId, long lastActiveMillis, long acknowledgedBelow) {
            this.clientId = clientId;
            this.lastActiveMillis = lastActiveMillis;
            this.acknowledgedBelow = acknowledgedBelow;
        }

        /** Records that the client has every reply below {@code sequence}; forgets those replies. */
        void acknowledge(long sequence) {
            if (sequence > acknowledgedBelow) {
                acknowledgedBelow = sequence;
                replies.headMap(sequence, false).clear();
            }
        }

        SessionState toState() {
            return SessionState.newBuilder()
                    .setClientId(clientId)
                    .setLastActiveMillis(lastActiveMillis)
                    .setAcknowledgedBelow(acknowledgedBelow)
                    .setReplyCount(replies.size())
                    .build();
        }

        /** The cached replies as snapshot records, ascending by sequence. */
        List<CachedReply> cachedReplies() {
            List<CachedReply> result = new ArrayList<>(replies.size());
            for (Map.Entry<Long, KvReply> entry : replies.entrySet()) {
                result.add(CachedReply.newBuilder().setSequence(entry.getKey()).setReply(entry.getValue()).build());
            }
            return result;
        }
    }
}
