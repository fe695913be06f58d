package io.loomkv.core.kv;

import com.google.protobuf.InvalidProtocolBufferException;
import io.loomkv.core.kv.proto.CachedReply;
import io.loomkv.core.kv.proto.DurableSession;
import io.loomkv.core.kv.proto.ExportedSession;
import io.loomkv.core.kv.proto.ForeignSessionFloor;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.SessionState;
import io.loomkv.core.shard.GroupIds;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
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
 *
 * <p>Imported sessions: when a slot moves here, the sessions of the previous owner that wrote it
 * come along with their cached replies ({@link #importSession}), and a client whose session
 * belongs to another group may then write here under it ({@link #adopt}): its retry of a write
 * the previous owner applied gets that reply, not a second execution. They live in the same LRU
 * order and expire like the group's own. Once one is forgotten (expired or evicted), an unknown id
 * of its group at or below it might be one forgotten here: {@link #mayBeForgotten} then makes the
 * write fail as SESSION_EXPIRED rather than run twice.
 */
final class SessionTable {

    private final SessionPolicy policy;
    private final long groupId;
    /** Insertion-ordered; {@link #touch} re-inserts, so iteration order is LRU first. */
    private final LinkedHashMap<Long, Session> sessions = new LinkedHashMap<>();
    private long nextClientId;
    /** Stamped on a session at each use; only the order matters (eviction), so it is local to this replica. */
    private long nextLruOrder = 1;
    /**
     * Ids of sessions opened, used, evicted or expired since {@link #takeChanged}; null unless
     * {@link #trackChanges} was called (a persistent engine writes exactly these with each entry).
     */
    private LinkedHashSet<Long> changed;
    /** Per other group: every forgotten imported session of it had an id below this. */
    private final TreeMap<Long, Long> forgottenBelow = new TreeMap<>();
    /** Counts changes of {@link #forgottenBelow}, so a persistent engine rewrites them only after one. */
    private long floorChanges;

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
        evictForOneMore();
        long clientId = nextClientId++;
        Session session = new Session(clientId, nowMillis, 1);
        session.lruOrder = nextLruOrder++;
        sessions.put(clientId, session);
        markChanged(clientId);
        return session;
    }

    private void evictForOneMore() {
        while (sessions.size() >= policy.maxSessions()) {
            Iterator<Session> oldest = sessions.values().iterator();
            Session evicted = oldest.next();
            oldest.remove();
            forgot(evicted.clientId);
        }
    }

    /** Whether {@code clientId} is a session of another group. */
    boolean isForeign(long clientId) {
        return GroupIds.groupOfClientId(clientId) != groupId;
    }

    /**
     * Whether an unknown session {@code clientId} of another group may be one this table imported
     * and forgot since (then a write under it must not run: its earlier outcome is lost).
     */
    boolean mayBeForgotten(long clientId) {
        Long floor = forgottenBelow.get(GroupIds.groupOfClientId(clientId));
        return floor != null && Long.compareUnsigned(clientId, floor) < 0;
    }

    /**
     * Starts keeping a session of another group that writes here for the first time, with the
     * client's own acknowledged mark; evicts like {@link #open}. The caller checked
     * {@link #mayBeForgotten} first.
     */
    Session adopt(long clientId, long nowMillis, long acknowledgedBelow) {
        if (!isForeign(clientId) || sessions.containsKey(clientId)) {
            throw new IllegalArgumentException("session " + clientId + " is not an unknown session of another group");
        }
        evictForOneMore();
        Session session = new Session(clientId, nowMillis, Math.max(1, acknowledgedBelow));
        session.lruOrder = nextLruOrder++;
        sessions.put(clientId, session);
        markChanged(clientId);
        return session;
    }

    /**
     * Takes a moved slot's exactly-once state for one session: its acknowledged mark and the
     * cached replies of its writes to the slot, merged with what this table knows of the session.
     * A session of this group that is no longer here stays gone (a retry under it fails as
     * SESSION_EXPIRED, never runs twice); one of another group is adopted if unknown.
     */
    void importSession(ExportedSession exported, long nowMillis) {
        long clientId = exported.getClientId();
        Session session = sessions.get(clientId);
        if (session == null) {
            if (!isForeign(clientId)) {
                return;
            }
            session = adopt(clientId, nowMillis, exported.getAcknowledgedBelow());
        }
        session.acknowledge(exported.getAcknowledgedBelow());
        for (CachedReply cached : exported.getRepliesList()) {
            if (cached.getSequence() >= session.acknowledgedBelow) {
                // Re-parsed, so the kept reply owns its bytes instead of sharing the log entry's
                // (KvStateMachine.applyEntry parses with aliasing) for as long as it is cached.
                session.replies.putIfAbsent(cached.getSequence(), detached(cached.getReply()));
            }
        }
        touch(session, Math.max(nowMillis, session.lastActiveMillis));
    }

    private static KvReply detached(KvReply reply) {
        try {
            return KvReply.parseFrom(reply.toByteArray());
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("a reply that was just serialised does not parse", e);
        }
    }

    /**
     * The exactly-once state to send along with {@code slots} when they move, by slot: for every
     * session with a cached reply of a write that touched the slot, those replies and the
     * session's mark. One pass over the sessions for all the slots.
     */
    Map<Integer, List<ExportedSession>> exportSlots(java.util.Set<Integer> slots) {
        Map<Integer, List<ExportedSession>> exported = new java.util.HashMap<>();
        if (slots.isEmpty()) {
            return exported;
        }
        for (Session session : sessions.values()) {
            Map<Integer, ExportedSession.Builder> bySlot = null;
            for (Map.Entry<Long, KvReply> entry : session.replies.entrySet()) {
                for (int slot : entry.getValue().getWrittenSlotsList()) {
                    if (!slots.contains(slot)) {
                        continue;
                    }
                    if (bySlot == null) {
                        bySlot = new java.util.HashMap<>();
                    }
                    bySlot.computeIfAbsent(slot, s -> ExportedSession.newBuilder().setClientId(session.clientId)
                                    .setAcknowledgedBelow(session.acknowledgedBelow))
                            .addReplies(CachedReply.newBuilder().setSequence(entry.getKey()).setReply(entry.getValue()));
                }
            }
            if (bySlot != null) {
                bySlot.forEach((slot, builder) -> exported.computeIfAbsent(slot, s -> new ArrayList<>()).add(builder.build()));
            }
        }
        return exported;
    }

    long floorChanges() {
        return floorChanges;
    }

    /** The floors of forgotten imported sessions, by group. */
    List<ForeignSessionFloor> floors() {
        List<ForeignSessionFloor> floors = new ArrayList<>(forgottenBelow.size());
        forgottenBelow.forEach((group, floor) ->
                floors.add(ForeignSessionFloor.newBuilder().setGroupId(group).setForgottenBelow(floor).build()));
        return floors;
    }

    /** Sets the floors read from a snapshot or an engine. */
    void restoreFloors(List<ForeignSessionFloor> floors) {
        forgottenBelow.clear();
        for (ForeignSessionFloor floor : floors) {
            if (floor.getGroupId() == groupId) {
                throw new IllegalArgumentException("a floor of forgotten imported sessions names this group " + groupId);
            }
            forgottenBelow.put(floor.getGroupId(), floor.getForgottenBelow());
        }
    }

    private void forgot(long clientId) {
        markChanged(clientId);
        if (isForeign(clientId)) {
            floorChanges++;
            forgottenBelow.merge(GroupIds.groupOfClientId(clientId), clientId + 1,
                    (a, b) -> Long.compareUnsigned(a, b) >= 0 ? a : b);
        }
    }

    /** Marks {@code session} used at {@code nowMillis} and moves it to the back of the LRU order. */
    void touch(Session session, long nowMillis) {
        if (nowMillis < session.lastActiveMillis) {
            throw new IllegalStateException("log clock went backwards for session " + session.clientId
                    + ": " + nowMillis + " < " + session.lastActiveMillis);
        }
        session.lastActiveMillis = nowMillis;
        session.lruOrder = nextLruOrder++;
        sessions.remove(session.clientId);
        sessions.put(session.clientId, session);
        markChanged(session.clientId);
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
            forgot(session.clientId);
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
        boolean foreign = isForeign(clientId);
        if (foreign ? GroupIds.groupOfClientId(clientId) == GroupIds.CONTROLLER_GROUP_ID
                : clientId < GroupIds.firstClientId(groupId) || clientId >= nextClientId) {
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
        // An imported session may hold the replies of several previous owners' windows.
        if (!foreign && cachedReplies.size() > policy.maxUnacknowledgedReplies()) {
            throw new IllegalArgumentException("session " + clientId + " holds " + cachedReplies.size()
                    + " replies, over maxUnacknowledgedReplies " + policy.maxUnacknowledgedReplies());
        }
        Session session = new Session(clientId, lastActive, state.getAcknowledgedBelow());
        session.lruOrder = nextLruOrder++;
        for (CachedReply cached : cachedReplies) {
            if (cached.getSequence() < session.acknowledgedBelow || session.replies.containsKey(cached.getSequence())) {
                throw new IllegalArgumentException("session " + clientId + " has an invalid cached reply for sequence "
                        + Long.toUnsignedString(cached.getSequence()));
            }
            session.replies.put(cached.getSequence(), cached.getReply());
        }
        sessions.put(clientId, session);
    }

    /** From now on, remember which sessions change, for {@link #takeChanged}. */
    void trackChanges() {
        if (changed == null) {
            changed = new LinkedHashSet<>();
        }
    }

    /** The ids of the sessions changed (opened, used, evicted, expired) since the last call; clears the set. */
    List<Long> takeChanged() {
        if (changed == null || changed.isEmpty()) {
            return List.of();
        }
        List<Long> ids = new ArrayList<>(changed);
        changed.clear();
        return ids;
    }

    private void markChanged(long clientId) {
        if (changed != null) {
            changed.add(clientId);
        }
    }

    /** A session as a persistent engine stores it. */
    static DurableSession toDurable(Session session) {
        return DurableSession.newBuilder()
                .setState(session.toState())
                .addAllReplies(session.cachedReplies())
                .setLruOrder(session.lruOrder)
                .build();
    }

    /**
     * Rebuilds the table from the sessions a persistent engine stored (any order): sorted by their
     * least-recently-used stamps, then checked as a snapshot's sessions are.
     */
    void restoreDurable(List<DurableSession> stored) {
        List<DurableSession> ordered = new ArrayList<>(stored);
        ordered.sort((a, b) -> Long.compareUnsigned(a.getLruOrder(), b.getLruOrder()));
        for (DurableSession session : ordered) {
            restore(session.getState(), session.getRepliesList());
            // Keep the stored stamps: sessions not used again keep them in the engine, so stamps
            // handed out from now on must be larger than every one of them.
            sessions.get(session.getState().getClientId()).lruOrder = session.getLruOrder();
            nextLruOrder = Math.max(nextLruOrder, session.getLruOrder() + 1);
        }
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
        /** Larger is more recently used; see {@link SessionTable#nextLruOrder}. */
        long lruOrder;
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
