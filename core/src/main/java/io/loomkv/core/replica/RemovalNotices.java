package io.loomkv.core.replica;

import io.loomkv.core.raft.Storage;
import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.EntryType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * How a store learns that a group removed it, for one replica: which stores this replica saw the
 * group remove (and by which entry), when to tell one that still talks to it, and whether a
 * replica believes such a notice. The server's runtime and the simulator both use it.
 *
 * <p>A removed store never receives the commit of its own removal (the leader stops replicating
 * to it once it applies the change), so a replica that applied the removal tells it: the leader at
 * once, and <em>any</em> member whenever the removed store's messages reach it, at most once per
 * interval. Any member, because a store that was down while the group left it only talks to its
 * stale membership, which may no longer hold the leader (simulator seeds 51 and 103 never
 * settled while only leaders told).
 *
 * <p>A notice names the entry that removed the store (index and term), because the store may have
 * been added back since it was sent. The receiver believes it only while its log cannot hold the
 * re-addition: it retires its replica and deletes its log, which is safe only if every entry of
 * that log a leader may have counted on is committed. Deleting a log that held the re-addition
 * would drop entries a leader counted (simulator seed 50).
 */
public final class RemovalNotices {
    /**
     * What a notice names: the entry whose application removed a store ({@code byEntry}), or, from
     * a member that does not know that entry (it restarted from a snapshot past it), a committed
     * entry it applied at which the store is not a member.
     */
    public record Removal(long index, long term, boolean byEntry) {
        public Removal {
            if (index <= 0 || term <= 0) {
                throw new IllegalArgumentException("a removal needs a positive index and term, got " + index + "/" + term);
            }
        }

        /** The entry that removed the store. */
        public Removal(long index, long term) {
            this(index, term, true);
        }
    }

    /** The most bytes of log read at once while looking for a re-addition after a removal entry. */
    private static final long SCAN_BATCH_BYTES = 1 << 20;

    private final long selfId;
    private final long intervalTicks;
    /** TreeMaps: the simulator's runs must not depend on hash order. */
    private final Map<Long, Removal> removed = new TreeMap<>();
    private final Map<Long, Long> lastNoticeTick = new TreeMap<>();
    /** When a leader's message last reached this replica, and when it last asked whether it was removed. */
    private long lastLeaderMessageTick;
    private long lastAskTick = Long.MIN_VALUE / 2;

    /**
     * @param selfId the store this replica runs on (its own removal is decided by its log)
     * @param intervalTicks the least time between two notices to one store (an election timeout)
     */
    public RemovalNotices(long selfId, long intervalTicks) {
        if (intervalTicks <= 0) {
            throw new IllegalArgumentException("notice interval must be positive, got " + intervalTicks);
        }
        this.selfId = selfId;
        this.intervalTicks = intervalTicks;
    }

    /**
     * This replica applied the conf change at {@code index} (of {@code term}), going from
     * {@code before} to {@code after}: returns the other stores it removed, which a leader tells at
     * once ({@link #sent}). A store listed again is no longer told anything.
     */
    public List<Long> onApplied(long index, long term, ConfState before, ConfState after) {
        Set<Long> now = members(after);
        List<Long> gone = new ArrayList<>();
        for (long member : members(before)) {
            if (member != selfId && !now.contains(member)) {
                removed.put(member, new Removal(index, term));
                gone.add(member);
            }
        }
        for (long member : now) {
            removed.remove(member);
            lastNoticeTick.remove(member);
        }
        return gone;
    }

    /** The removal of {@code store} this replica applied, or null. */
    public Removal removalOf(long store) {
        return removed.get(store);
    }

    /**
     * A message from {@code from}, which this replica's membership does not list, reached it at
     * {@code nowTick}: the removal to tell it now, or null (told within the interval). It names
     * the entry that removed the store if this replica applied it, else what {@code asOfApplied}
     * gives (a point this replica applied, or null if it cannot tell): a member that restarted
     * from a snapshot past the removal applied no entry removing it (simulator seed 1030 never
     * settled while such members said nothing).
     */
    public Removal noticeDue(long from, long nowTick, Supplier<Removal> asOfApplied) {
        Long last = lastNoticeTick.get(from);
        if (last != null && nowTick - last < intervalTicks) {
            return null;
        }
        Removal removal = removed.get(from);
        if (removal == null) {
            removal = asOfApplied.get();
            if (removal == null) {
                return null;
            }
        }
        lastNoticeTick.put(from, nowTick);
        return removal;
    }

    /** A notice went to {@code store} at {@code nowTick} (the leader's, when it applied the removal). */
    public void sent(long store, long nowTick) {
        lastNoticeTick.put(store, nowTick);
    }

    /** A leader's message (an append, a heartbeat, a snapshot) reached this replica at {@code nowTick}. */
    public void heardFromLeader(long nowTick) {
        lastLeaderMessageTick = nowTick;
    }

    /**
     * Whether this replica, with membership {@code conf}, should now ask that membership's stores
     * whether they removed it (they answer with a notice, as to any message of a store they
     * removed); records the ask. It should when its membership does not list it as a voter and no
     * leader has reached it for two intervals: such a replica (not listed, or a learner) never
     * campaigns, so it sends nothing, and if the one notice of its removal was lost nobody would
     * tell it again (simulator seeds 962 and 1726). A replica catching up hears from its leader,
     * so it does not ask; the members of a learner that was not removed do not answer.
     */
    public boolean askDue(ConfState conf, long nowTick) {
        long wait = 2 * intervalTicks;
        if (knowsNoMembership(conf) || conf.getVotersList().contains(selfId)
                || conf.getVotersOutgoingList().contains(selfId)
                || nowTick - lastLeaderMessageTick < wait || nowTick - lastAskTick < wait) {
            return false;
        }
        lastAskTick = nowTick;
        return true;
    }

    /**
     * Whether an empty replica (membership {@code conf} known to be empty: created for a leader,
     * never filled) was abandoned: no leader reached it for two intervals. Its store retires it
     * when the configuration no longer places the group there (the group moved away before its
     * leader filled it: simulator seed 990). It holds no membership, so it neither believes a
     * notice nor asks; the entries it may hold it could only have acknowledged as a learner, whose
     * acknowledgements count for nothing.
     */
    public boolean abandoned(ConfState conf, long nowTick) {
        return knowsNoMembership(conf) && nowTick - lastLeaderMessageTick >= 2 * intervalTicks;
    }

    /** The stores of {@code conf} other than this one: whom to ask. */
    public List<Long> othersIn(ConfState conf) {
        List<Long> others = new ArrayList<>(members(conf));
        others.remove(Long.valueOf(selfId));
        return others;
    }

    /** Forgets everything (what a replica learned of removals is in memory only: a restart replays the log). */
    public void clear() {
        removed.clear();
        lastNoticeTick.clear();
        lastLeaderMessageTick = 0;
        lastAskTick = Long.MIN_VALUE / 2;
    }

    /**
     * Whether replica {@code selfId}, whose membership is {@code conf} after the conf changes up to
     * {@code appliedIndex} and whose log is {@code log}, believes it was removed by
     * {@code removal}. A removal names a committed entry at which the store is not a member, so a
     * re-addition can only come after it; the replica believes the notice only while its log
     * cannot hold one, since only then did no leader of a membership that lists it again count an
     * entry it holds. It does not when it knows no membership (an empty replica created since for
     * a leader: the notice was for its predecessor). If it applied the named entry, it does unless
     * what it applied lists it again or a conf change waits in its log after that (possibly the
     * re-addition; the leader that sent it will tell it the rest). Otherwise it does when its log
     * ends before the named entry, and when it holds a different entry at that index (by log
     * matching none of its entries from there on is committed); when it holds the named entry,
     * unapplied, unless a conf change follows it in its log. A notice that names a point rather
     * than the removing entry convinces only a replica whose membership lists it.
     */
    public static boolean believes(long selfId, ConfState conf, long appliedIndex, Storage log, Removal removal) {
        if (knowsNoMembership(conf)) {
            return false;
        }
        if (!removal.byEntry() && !members(conf).contains(selfId)) {
            // "Not a member at that point" is also true of a store added after it, such as a
            // replica catching up from a snapshot older than its own addition: only a replica
            // that saw itself listed takes it as a removal.
            return false;
        }
        long last = log.lastIndex();
        if (appliedIndex >= removal.index()) {
            return !members(conf).contains(selfId) && noConfChangeAfter(log, Math.max(appliedIndex, log.firstIndex() - 1), last);
        }
        if (last < removal.index()) {
            return true;
        }
        if (log.term(removal.index()) != removal.term()) {
            return true;
        }
        return noConfChangeAfter(log, removal.index(), last);
    }

    /**
     * Whether replica {@code selfId}, whose membership is {@code conf} after applying the conf
     * change at {@code appliedIndex}, learns its removal from its own log: the membership does not
     * list it, and no conf change waits after that in its log (one could be a re-addition: a store
     * removed from a group and added back replays its old removal first). Entries that are not
     * conf changes do not keep it: a removed leader has its own proposals after the removal, and a
     * follower may hold a few, and no member tells a replica that sends nothing (one that is not in
     * its own membership never campaigns): simulator seeds 529 and 758 never settled.
     */
    public static boolean removedByItsOwnLog(long selfId, ConfState conf, long appliedIndex, Storage log) {
        if (knowsNoMembership(conf) || members(conf).contains(selfId)) {
            return false;
        }
        return noConfChangeAfter(log, Math.max(appliedIndex, log.firstIndex() - 1), log.lastIndex());
    }

    /** Whether no entry of {@code log} in {@code (after, last]} is a conf change. */
    private static boolean noConfChangeAfter(Storage log, long after, long last) {
        long from = after + 1;
        while (from <= last) {
            List<Entry> batch = log.entries(from, last + 1, SCAN_BATCH_BYTES);
            for (Entry entry : batch) {
                if (entry.getType() == EntryType.ENTRY_CONF_CHANGE) {
                    return false;
                }
            }
            from += batch.size();
        }
        return true;
    }

    /** Whether {@code conf} lists no store: an empty replica, created for a leader that has not filled it yet. */
    public static boolean knowsNoMembership(ConfState conf) {
        return conf.getVotersCount() == 0 && conf.getLearnersCount() == 0;
    }

    private static Set<Long> members(ConfState conf) {
        Set<Long> members = new TreeSet<>(conf.getVotersList());
        members.addAll(conf.getLearnersList());
        members.addAll(conf.getVotersOutgoingList());
        members.addAll(conf.getLearnersNextList());
        return members;
    }
}
