package io.loomkv.net.node;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.KvReplies;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.raft.RaftNode;
import io.loomkv.core.raft.RequestDroppedException;
import io.loomkv.core.raft.proto.ConfChange;
import io.loomkv.core.raft.proto.ConfChangeSingle;
import io.loomkv.core.raft.proto.ConfChangeType;
import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.tracker.ProgressState;
import io.loomkv.core.raft.Storage;
import io.loomkv.core.replica.AppliedConfChange;
import io.loomkv.core.replica.RemovalNotices;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One replica's membership policy, on its turns: the group's current membership, addresses of
 * stores added by conf changes (kept in the store's address book), telling removed stores that
 * they were removed, noticing our own removal, and promoting learners to voters once they caught
 * up.
 */
final class GroupMembership {
    private static final Logger LOG = LoggerFactory.getLogger(GroupMembership.class);
    /** A learner whose log is this close to the leader's is promoted to voter (as a replica move's joint change does). */
    static final long PROMOTE_GAP_ENTRIES = io.loomkv.core.shard.ReplicaMovePlanner.PROMOTE_GAP_ENTRIES;
    static final int PROMOTE_CHECK_TICKS = 5;

    private final String name;
    private final long storeId;
    private final long groupId;
    private final Membership addresses;
    private final StoreTransport transport;
    private final ReplicaState state;
    private final RemovalNotices notices;
    /** Written by the replica's turns, read by the store's balancer: volatile (a ConfState is immutable). */
    private volatile ConfState confState;
    private long ticks;
    /** Learners a replica move brings in: its joint change promotes them, not {@link #promoteCaughtUpLearners}. Turns only. */
    private java.util.Set<Long> heldLearners = java.util.Set.of();

    /**
     * Conf changes at or below this index were in the log when the replica opened: applying them
     * again replays history, logged at DEBUG (a store with a thousand groups would otherwise log
     * three thousand lines at every start, on the cores its elections need).
     */
    private final long lastIndexAtOpen;

    GroupMembership(String name, long storeId, long groupId, Membership addresses, StoreTransport transport,
            ReplicaState state, int electionTimeoutTicks, ConfState initial, long lastIndexAtOpen) {
        this.name = name;
        this.lastIndexAtOpen = lastIndexAtOpen;
        this.storeId = storeId;
        this.groupId = groupId;
        this.addresses = addresses;
        this.transport = transport;
        this.state = state;
        this.notices = new RemovalNotices(storeId, electionTimeoutTicks);
        this.confState = initial;
    }

    ConfState confState() {
        return confState;
    }

    void holdPromotion(java.util.Set<Long> learners) {
        heldLearners = java.util.Set.copyOf(learners);
    }

    boolean isMember(long id) {
        return confState.getVotersList().contains(id) || confState.getLearnersList().contains(id)
                || confState.getVotersOutgoingList().contains(id);
    }

    /**
     * Store {@code id} talks to this replica (a message or a removal query): if the membership does
     * not list it, it never saw its removal commit, so tell it (at most once per election timeout
     * per store). Any member does, not only the leader: the removed store talks only to its stale
     * membership (see {@link RemovalNotices}).
     */
    void noticeRemoved(long id, Supplier<RemovalNotices.Removal> appliedPoint) {
        if (isMember(id) || RemovalNotices.knowsNoMembership(confState)) {
            return; // A member, or an empty replica, which knows no membership to speak of.
        }
        // The store's address book keeps a removed store's address (it may host other groups).
        MemberAddress address = addresses.get(id);
        if (address == null) {
            return;
        }
        RemovalNotices.Removal removal = notices.noticeDue(id, ticks, appliedPoint);
        if (removal != null) {
            transport.sendRemovedNotice(groupId, id, address, removal);
        }
    }

    /**
     * A peer told us {@code removal} took this store out of the group; the membership is as of
     * {@code appliedIndex} (the entries handed to the applier), {@code log} is the replica's.
     */
    void onRemovedNotice(long from, RemovalNotices.Removal removal, long appliedIndex, Storage log) {
        if (state.removed()) {
            return;
        }
        if (!RemovalNotices.believes(storeId, confState, appliedIndex, log, removal)) {
            LOG.info("{}: store {} says entry {} (term {}) removed this store from group {}; not believed: the replica"
                    + " knows no membership yet or its log may hold a re-addition", name, from, removal.index(), removal.term(), groupId);
            return;
        }
        String what = removal.byEntry() ? "entry " + removal.index() + " removed this store from group " + groupId
                : "this store is not a member of group " + groupId + " as of entry " + removal.index() + ", which it applied";
        LOG.warn("{}: store {} says {}; the replica stops serving", name, from, what);
        state.markRemoved();
    }

    /** A snapshot from the leader replaced the membership. */
    void onSnapshot(ConfState restored) {
        confState = restored;
    }

    /**
     * Bookkeeping for the conf changes the driver applied to the node; returns the membership after
     * each. {@code log} is the replica's: whether this store's own removal is final depends on what
     * follows it there.
     */
    Map<Long, ConfState> onConfChanges(List<AppliedConfChange> changes, Storage log) {
        Map<Long, ConfState> confStates = new HashMap<>();
        long lastApplied = 0;
        for (AppliedConfChange applied : changes) {
            if (applied.refused()) {
                LOG.warn("{}: conf change at {} refused: {}", name, applied.index(), applied.refusal());
                continue;
            }
            ConfState after = applied.after();
            ConfState before = confState;
            confStates.put(applied.index(), after);
            confState = after;
            recordAddresses(applied.change(), after);
            recordRemovals(applied, before);
            lastApplied = applied.index();
            if (applied.index() > lastIndexAtOpen) {
                LOG.info("{}: membership now voters={} learners={} (entry {})", name, after.getVotersList(),
                        after.getLearnersList(), applied.index());
            } else {
                LOG.debug("{}: membership replayed: voters={} learners={} (entry {})", name, after.getVotersList(),
                        after.getLearnersList(), applied.index());
            }
        }
        // This store's own removal counts only when no conf change after it in the log could add the
        // store again: a store removed from a group and later added back (a replica moved away and
        // back) replays its removal from the leader's log before the entry that re-adds it.
        if (lastApplied > 0 && !state.removed() && RemovalNotices.removedByItsOwnLog(storeId, confState, lastApplied, log)) {
            LOG.warn("{}: this store was removed from group {}; the replica stops serving", name, groupId);
            state.markRemoved();
        }
        return confStates;
    }

    /**
     * The stores that were members before a change and are not after it: by a simple removal, or
     * by leaving a joint configuration (whose entry names no store: the removal was in the change
     * that entered it, while the store still counted in the outgoing half).
     */
    private void recordRemovals(AppliedConfChange applied, ConfState before) {
        // This store's own removal is decided once the batch is applied: see onConfChanges.
        for (long id : notices.onApplied(applied.index(), applied.term(), before, applied.after())) {
            if (state.isLeader()) {
                notices.sent(id, ticks);
                // The address stays in the store's book: the store may host other groups.
                transport.sendRemovedNotice(groupId, id, addresses.get(id), notices.removalOf(id));
            }
        }
    }

    private void recordAddresses(ConfChange change, ConfState after) {
        for (ConfChangeSingle single : change.getChangesList()) {
            long id = single.getNodeId();
            if (single.getType() == ConfChangeType.CONF_CHANGE_REMOVE_NODE) {
                continue; // See recordRemovals.
            } else if (!change.getContext().isEmpty()) {
                try {
                    addresses.put(MemberAddress.parseAddresses(id, change.getContext().toString(StandardCharsets.UTF_8)));
                } catch (IllegalArgumentException e) {
                    LOG.warn("{}: conf change for {} carries bad addresses: {}", name, id, e.getMessage());
                }
            }
        }
    }

    /**
     * Retires this replica if it is empty and abandoned ({@link RemovalNotices#abandoned}): the
     * placement driver asks, on the replica's turn, for a managed group the configuration no
     * longer places on this store.
     */
    void retireIfAbandoned() {
        if (!state.removed() && notices.abandoned(confState, ticks)) {
            LOG.warn("{}: empty replica, no leader reached it for two election timeouts and group {} is no longer placed"
                    + " here; the replica stops", name, groupId);
            state.markRemoved();
        }
    }

    /** A leader's message reached the replica: see {@link RemovalNotices#askDue}. */
    void heardFromLeader() {
        notices.heardFromLeader(ticks);
    }

    /**
     * Time passed; every few ticks a leader promotes a learner that caught up, and a replica its
     * own membership does not list as a voter, which no leader reached for a while, asks whether
     * it was removed.
     */
    void onTicks(long count, RaftNode node) {
        long before = ticks;
        ticks += count;
        if (before / PROMOTE_CHECK_TICKS != ticks / PROMOTE_CHECK_TICKS && state.isLeader()) {
            promoteCaughtUpLearners(node);
        }
        if (!state.removed() && notices.askDue(confState, ticks)) {
            LOG.info("{}: its membership does not list this store as a voter and no leader reached it for a while:"
                    + " asking {} whether group {} removed it", name, notices.othersIn(confState), groupId);
            for (long member : notices.othersIn(confState)) {
                transport.sendRemovalQuery(groupId, member, addresses.get(member));
            }
        }
    }

    private void promoteCaughtUpLearners(RaftNode node) {
        var status = node.status();
        if (status.confState().getVotersOutgoingCount() > 0 || status.confState().getLearnersCount() == 0) {
            return;
        }
        for (long learner : status.confState().getLearnersList()) {
            if (heldLearners.contains(learner)) {
                continue;
            }
            var progress = status.progress().get(learner);
            if (progress == null || progress.state() != ProgressState.REPLICATE
                    || progress.match() == 0 || progress.match() + PROMOTE_GAP_ENTRIES < status.lastIndex()) {
                continue;
            }
            MemberAddress address = addresses.get(learner);
            ConfChange.Builder change = ConfChange.newBuilder().addChanges(ConfChangeSingle.newBuilder()
                    .setType(ConfChangeType.CONF_CHANGE_ADD_NODE).setNodeId(learner));
            if (address != null) {
                change.setContext(ByteString.copyFrom(address.toContext()));
            }
            try {
                node.proposeConfChange(change.build());
                LOG.info("{}: learner {} caught up (match {} of {}); proposing it as a voter", name, learner,
                        progress.match(), status.lastIndex());
            } catch (RequestDroppedException e) {
                LOG.debug("{}: promotion of {} not proposed now: {}", name, learner, e.getMessage());
            }
            return; // One change at a time.
        }
    }

    /** NOT_LEADER with the leader's store and its client address, when known. */
    KvReply notLeader() {
        long leader = state.leaderId();
        MemberAddress address = leader == 0 ? null : addresses.get(leader);
        return KvReplies.notLeader(leader, address == null ? "" : MemberAddress.format(address.clientAddress()));
    }
}
