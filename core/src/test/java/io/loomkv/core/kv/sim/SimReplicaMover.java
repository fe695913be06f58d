package io.loomkv.core.kv.sim;

import io.loomkv.core.kv.KvSimMachine;
import io.loomkv.core.raft.Status;
import io.loomkv.core.raft.proto.ConfChange;
import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.proto.Message;
import io.loomkv.core.raft.sim.ConfChanges;
import io.loomkv.core.raft.sim.SimReplica;
import io.loomkv.core.raft.sim.SimStore;
import io.loomkv.core.raft.sim.Simulator;
import io.loomkv.core.replica.LeaderMessages;
import io.loomkv.core.replica.RemovalNotices;
import io.loomkv.core.shard.GroupIds;
import io.loomkv.core.shard.ReplicaMovePlanner;
import io.loomkv.core.shard.SlotLayout;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.IntFunction;

/**
 * One simulated store's replica placement: the server's {@code ReplicaPlacementDriver} and the
 * removal bookkeeping of its {@code GroupMembership}, with the simulator's I/O. Every round (200
 * ms of simulated time) it steps each managed data group (one the controller moved a replica of)
 * whose replica here leads, has applied the configuration this store's controller replica knows,
 * and differs from its store list: {@link ReplicaMovePlanner} decides, and the step is a conf
 * change proposed to that replica or a leadership transfer. A replica of a managed group that
 * learned of its own removal is retired: stopped for good, its log deleted
 * ({@link SimReplica#retire}).
 *
 * <p>A replica learns of its removal as the server's does: from applying the conf change that
 * removes it when no later conf change is in its log, or from a removed notice naming the entry that
 * removed it ({@link RemovalNotices}), which the leader sends (as a store-to-store call, lost or
 * delayed like any) to a store it removed when it applies the removal, and any member that applied
 * it sends whenever that store's messages still reach it (at most once per election timeout). The
 * receiver believes it by {@link RemovalNotices#believes}; a replica that did drops every message
 * until it is retired, as the server's does. A replica outside its own membership that no leader
 * reached for a while asks its members ({@link RemovalNotices#askDue}).
 *
 * <p>The simulator's replicas do not promote caught-up learners by themselves (the server's
 * {@code GroupMembership} does, except the learners a move holds back), so the planner's held
 * learners need no bookkeeping here: the joint change is always the one that promotes.
 */
final class SimReplicaMover {

    static final long ROUND_TICKS = Simulator.ticksForMillis(200);

    private final Simulator sim;
    private final SimCalls calls;
    private final ShardedFault fault;
    private final int storeId;
    private final List<Long> dataGroups;
    private final IntFunction<SimReplicaMover> movers;
    private long incarnation;
    private long nextRoundTick;
    /** Groups whose replica here learned it was removed (volatile, as the server's replica state). */
    private final Set<Long> removed = new TreeSet<>();
    /** Per group, the stores this store's replica saw leave by a conf change it applied, and when each was told. */
    private final Map<Long, RemovalNotices> notices = new TreeMap<>();
    private long steps;
    private long retired;

    SimReplicaMover(Simulator sim, SimCalls calls, int storeId, List<Long> dataGroups, ShardedFault fault,
            IntFunction<SimReplicaMover> movers) {
        this.sim = sim;
        this.calls = calls;
        this.fault = fault;
        this.storeId = storeId;
        this.dataGroups = List.copyOf(dataGroups);
        this.movers = movers;
    }

    /** Steps this mover took (proposals made and transfers asked as leader). */
    long steps() {
        return steps;
    }

    /** Replicas this mover retired. */
    long retired() {
        return retired;
    }

    void tick() {
        SimStore store = sim.store(storeId);
        if (!store.running()) {
            return;
        }
        forgetIfRestarted(store);
        long now = sim.nowTick();
        if (now < nextRoundTick) {
            return;
        }
        nextRoundTick = now + ROUND_TICKS;
        for (long group : dataGroups) {
            askIfRemoved(store.replica(SimMigrationDriver.simGroup(group)), group, now);
        }
        KvSimMachine controller = (KvSimMachine) store.replica(SimMigrationDriver.simGroup(GroupIds.CONTROLLER_GROUP_ID)).machine();
        SlotLayout layout = controller == null ? null : controller.machine().latestConfig();
        if (layout == null) {
            return;
        }
        for (long group : dataGroups) {
            if (ReplicaMovePlanner.managed(layout, group)) {
                round(store.replica(SimMigrationDriver.simGroup(group)), group, layout);
            }
        }
    }

    private void round(SimReplica replica, long group, SlotLayout layout) {
        if (replica.retired() || !replica.alive()) {
            return;
        }
        if (removed.contains(group)) {
            if (fault != ShardedFault.NEVER_RETIRE) {
                // A removed replica never serves again: if a later move brings the group back here,
                // its leader's first message creates a new, empty one.
                replica.retire();
                removed.remove(group);
                notices.remove(group);
                retired++;
            }
            return;
        }
        List<Long> target = layout.replicas(group);
        if (!target.contains((long) storeId) && noticesOf(group).abandoned(replica.confState(), sim.nowTick())) {
            removed.add(group); // The server's GroupMembership.retireIfAbandoned: retired at the next round.
            return;
        }
        KvSimMachine machine = (KvSimMachine) replica.machine();
        if (!ReplicaMovePlanner.needsStep(replica.isLeader(), machine.machine().configNumber(), layout.version(),
                replica.confState(), target)) {
            return;
        }
        Status status = replica.status();
        ReplicaMovePlanner.Decision decision = ReplicaMovePlanner.next(storeId, status, Set.copyOf(target));
        int simGroup = SimMigrationDriver.simGroup(group);
        ConfChange change = switch (decision.step()) {
            case ReplicaMovePlanner.Wait w -> null;
            case ReplicaMovePlanner.RemoveLearner r -> ConfChanges.remove(r.store());
            case ReplicaMovePlanner.TransferLeadership t -> {
                sim.group(simGroup).transferLeader(storeId, (int) t.store());
                steps++;
                yield null;
            }
            case ReplicaMovePlanner.AddLearner a -> ConfChanges.addLearner(a.store());
            case ReplicaMovePlanner.Promote p -> ConfChanges.addVoter(p.store());
            case ReplicaMovePlanner.Replace r -> ConfChanges.replace(r.added(), r.removed());
            case ReplicaMovePlanner.RemoveVoter r -> ConfChanges.remove(r.store());
        };
        if (change != null && sim.group(simGroup).proposeConfChange(storeId, change)) {
            steps++;
        }
    }

    /** The server's {@code GroupMembership.onTicks}: a replica outside its own membership that no leader reached asks its members. */
    private void askIfRemoved(SimReplica replica, long group, long now) {
        if (replica.retired() || !replica.alive() || removed.contains(group) || !noticesOf(group).askDue(replica.confState(), now)) {
            return;
        }
        for (long member : noticesOf(group).othersIn(replica.confState())) {
            calls.call(storeId, (int) member, at -> {
                movers.apply(at).onRemovalQuery(group, storeId);
                return null; // A query has no answer but the notice it may bring.
            }, reply -> { });
        }
    }

    /** Store {@code from} asks whether {@code group} removed it: answered as its Raft message would be. */
    private void onRemovalQuery(long group, long from) {
        forgetIfRestarted(sim.store(storeId));
        SimReplica replica = sim.store(storeId).replica(SimMigrationDriver.simGroup(group));
        if (!replica.alive() || removed.contains(group) || members(replica.confState()).contains(from)) {
            return;
        }
        RemovalNotices.Removal removal = noticesOf(group).noticeDue(from, sim.nowTick(), () -> appliedPoint(replica));
        if (removal != null) {
            notice(group, from, removal);
        }
    }

    /** The server's {@code Replica.appliedPoint}: the last entry handed to the state machine, or null. */
    private static RemovalNotices.Removal appliedPoint(SimReplica replica) {
        ConfState conf = replica.confState();
        long applied = replica.status().appliedIndex();
        if (RemovalNotices.knowsNoMembership(conf) || applied <= 0) {
            return null;
        }
        long term = replica.storage().term(applied);
        return term > 0 ? new RemovalNotices.Removal(applied, term, false) : null;
    }

    /** Store {@code storeId}'s replica of {@code group} applied a conf change (the run dispatches every store's here). */
    void onMembershipApplied(long group, long index, long term, ConfState before, ConfState after, long lastLogIndex) {
        forgetIfRestarted(sim.store(storeId));
        SimReplica replica = sim.store(storeId).replica(SimMigrationDriver.simGroup(group));
        RemovalNotices told = noticesOf(group);
        for (long member : told.onApplied(index, term, before, after)) {
            if (replica.isLeader()) {
                told.sent(member, sim.nowTick());
                notice(group, member, told.removalOf(member));
            }
        }
        // Only when no conf change after it in the log could add this store again: a store moved
        // away and back replays its old removal from the leader's log before the entry that re-adds it.
        if (RemovalNotices.removedByItsOwnLog(storeId, after, index, replica.storage())) {
            removed.add(group);
        }
    }

    /**
     * A message reached this store's replica of {@code group}: returns whether the replica takes it
     * (not once it learned it was removed); a store this replica saw removed, still talking, is told
     * again.
     */
    boolean onDelivered(long group, Message message) {
        forgetIfRestarted(sim.store(storeId));
        if (removed.contains(group)) {
            return false;
        }
        SimReplica replica = sim.store(storeId).replica(SimMigrationDriver.simGroup(group));
        long from = message.getFrom();
        if (LeaderMessages.isLeaderMessage(message.getType())) {
            noticesOf(group).heardFromLeader(sim.nowTick());
        }
        if (!replica.alive() || members(replica.confState()).contains(from)) {
            return true;
        }
        RemovalNotices.Removal removal = noticesOf(group).noticeDue(from, sim.nowTick(), () -> appliedPoint(replica));
        if (removal != null) {
            notice(group, from, removal);
        }
        return true;
    }

    private RemovalNotices noticesOf(long group) {
        return notices.computeIfAbsent(group, g -> new RemovalNotices(storeId, sim.options().electionTimeoutTicks()));
    }

    private void notice(long group, long store, RemovalNotices.Removal removal) {
        calls.call(storeId, (int) store, at -> {
            movers.apply(at).onRemovedNotice(group, removal);
            return null; // A notice has no answer.
        }, reply -> { });
    }

    /** A member says {@code removal} took this store out of {@code group}. */
    private void onRemovedNotice(long group, RemovalNotices.Removal removal) {
        forgetIfRestarted(sim.store(storeId));
        SimReplica replica = sim.store(storeId).replica(SimMigrationDriver.simGroup(group));
        ConfState conf = replica.confState();
        if (!replica.alive() || conf == null
                || !RemovalNotices.believes(storeId, conf, replica.status().appliedIndex(), replica.storage(), removal)) {
            return; // Gone already, an empty replica created since, or a log that may hold a re-addition.
        }
        removed.add(group);
    }

    /**
     * The store's rule for creating an empty replica of {@code group} for a leader's message, as the
     * server's ({@link ReplicaMovePlanner#mayCreate}), from this store's own controller replica: a
     * group the configuration does not know gets none.
     */
    boolean mayCreate(long group) {
        SimStore store = sim.store(storeId);
        KvSimMachine controller = (KvSimMachine) store.replica(SimMigrationDriver.simGroup(GroupIds.CONTROLLER_GROUP_ID)).machine();
        SlotLayout layout = controller == null ? null : controller.machine().latestConfig();
        if (layout == null || !layout.groups().contains(group)) {
            return false;
        }
        int incoming = 0;
        for (long other : dataGroups) {
            SimReplica replica = store.replica(SimMigrationDriver.simGroup(other));
            if (replica.alive() && ReplicaMovePlanner.managed(layout, other) && !removed.contains(other)
                    && !replica.confState().getVotersList().contains((long) storeId)) {
                incoming++;
            }
        }
        return ReplicaMovePlanner.mayCreate(layout, group, storeId, incoming);
    }

    private void forgetIfRestarted(SimStore store) {
        if (store.incarnation() != incarnation) {
            // What a replica learned of its removal, and whom it removed, is in memory only; the log
            // replays the removal (and the leader notices again) after a restart.
            incarnation = store.incarnation();
            removed.clear();
            notices.clear();
        }
    }

    private static Set<Long> members(ConfState conf) {
        Set<Long> members = new TreeSet<>(conf.getVotersList());
        members.addAll(conf.getLearnersList());
        members.addAll(conf.getVotersOutgoingList());
        return members;
    }
}
