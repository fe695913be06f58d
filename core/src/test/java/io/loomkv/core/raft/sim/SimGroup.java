package io.loomkv.core.raft.sim;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.proto.ConfChange;
import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.proto.Message;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One Raft group of the simulation, seen across the stores that host it: its client operations
 * (6.824's {@code Start} and friends, addressed by store id, which is the replica's Raft node id),
 * its observations, and its own {@link SafetyChecker}: Raft's invariants hold per group (two groups
 * may well each have a leader of term 3).
 */
public final class SimGroup {

    private final Simulator sim;
    private final int id;
    private final SafetyChecker checker;
    /** Reads issued: context -> the highest index known committed when the read was issued. */
    private final Map<Long, Long> pendingReads = new HashMap<>();
    private final Set<Long> confirmedReads = new HashSet<>();
    private long nextReadContext = 1;
    private long readsConfirmed;
    private ReadListener readListener;
    private MembershipListener membershipListener;
    private DeliveryListener deliveryListener;

    SimGroup(Simulator sim, int id, ConfState initialMembership) {
        this.sim = sim;
        this.id = id;
        this.checker = new SafetyChecker(message -> sim.fail(sim.options().groups() == 1 ? message
                : "group " + id + ": " + message), initialMembership);
    }

    public int id() {
        return id;
    }

    SafetyChecker checker() {
        return checker;
    }

    /** Store {@code storeId}'s replica of this group. */
    public SimReplica node(int storeId) {
        return sim.store(storeId).replica(id);
    }

    /**
     * 6.824's {@code Start(cmd)}: proposes {@code value} at store {@code storeId}. When its replica
     * is a live leader that accepts it, the result holds the index and term the entry got (even
     * when an armed crash kills the store right after).
     */
    public Simulator.Start start(int storeId, long value) {
        return start(storeId, value, 0);
    }

    public Simulator.Start start(int storeId, long value, int paddingBytes) {
        SimStore store = sim.store(storeId);
        if (!store.running()) {
            return Simulator.Start.REJECTED;
        }
        SimCommand command = new SimCommand(sim.newProposalId(), value, paddingBytes);
        SimReplica replica = store.replica(id);
        Simulator.Start[] result = {Simulator.Start.REJECTED};
        store.run("propose", () -> {
            result[0] = replica.propose(command);
            if (result[0].isLeader()) {
                replica.processInput();
            }
        });
        return result[0];
    }

    /**
     * Proposes opaque {@code data} (a real state machine's command) at store {@code storeId}: like
     * {@link #start} but for a {@link SimMachine} other than the toy one. The result's proposal id is 0.
     */
    public Simulator.Start propose(int storeId, ByteString data) {
        SimStore store = sim.store(storeId);
        if (!store.running()) {
            return Simulator.Start.REJECTED;
        }
        SimReplica replica = store.replica(id);
        Simulator.Start[] result = {Simulator.Start.REJECTED};
        store.run("propose", () -> {
            result[0] = replica.proposeData(data);
            if (result[0].isLeader()) {
                replica.processInput();
            }
        });
        return result[0];
    }

    public boolean proposeConfChange(int storeId, ConfChange change) {
        SimStore store = sim.store(storeId);
        if (!store.running()) {
            return false;
        }
        SimReplica replica = store.replica(id);
        boolean[] accepted = {false};
        store.run("proposeConfChange", () -> {
            accepted[0] = replica.proposeConfChange(change);
            replica.processInput();
        });
        return accepted[0];
    }

    /** Makes store {@code storeId}'s replica start an election now, as if its election timeout had passed. */
    public void campaign(int storeId) {
        SimStore store = sim.store(storeId);
        if (store.running()) {
            sim.trace("campaign " + storeId + groupSuffix());
            SimReplica replica = store.replica(id);
            store.run("campaign", () -> {
                replica.campaign();
                replica.processInput();
            });
        }
    }

    /**
     * Asks store {@code storeId}'s replica for a linearizable read. When its ReadState arrives, its
     * index must be at least every index known to be committed now (else the read could miss a
     * completed write). A paused store takes the read in its next turn, after the time that passed.
     *
     * @return the read's context, or -1 if the replica refused it
     */
    public long readIndex(int storeId) {
        SimStore store = sim.store(storeId);
        if (!store.alive()) {
            return -1;
        }
        long context = nextReadContext++;
        pendingReads.put(context, checker.highestCommitIndexSeen());
        SimReplica replica = store.replica(id);
        if (!store.running()) {
            replica.readIndex(context, true);
            return context;
        }
        boolean[] accepted = {false};
        store.run("readIndex", () -> {
            accepted[0] = replica.readIndex(context, false);
            replica.processInput();
        });
        if (!accepted[0]) {
            pendingReads.remove(context);
            return -1;
        }
        return context;
    }

    void onReadState(int storeId, long context, long index) {
        // A duplicated request may be confirmed twice; each confirmation must still be safe.
        Long required = pendingReads.get(context);
        if (required == null) {
            throw checkerFailure("node " + storeId + " confirmed read " + context + " that was never issued (or was refused)");
        }
        if (index < required) {
            throw checkerFailure("linearizable read: node " + storeId + " confirmed read " + context + " at index " + index
                    + ", but index " + required + " was already committed when the read was issued");
        }
        if (confirmedReads.add(context)) {
            readsConfirmed++;
        }
        if (readListener != null) {
            readListener.confirmed(storeId, context, index);
        }
    }

    /** Told of every confirmed read (after the checks), so a scenario can serve it from a real state machine. */
    @FunctionalInterface
    public interface ReadListener {
        void confirmed(int storeId, long context, long index);
    }

    /** Sets the one {@link ReadListener} of this group (null for none). */
    public void onReadConfirmed(ReadListener listener) {
        readListener = listener;
    }

    /** Told of every conf change a replica applies, after the checks: a scenario's runtime notices removals from it. */
    @FunctionalInterface
    public interface MembershipListener {
        /** Store {@code storeId}'s replica applied the conf change at {@code index} (of {@code term}); its log ends at {@code lastLogIndex}. */
        void applied(int storeId, long index, long term, ConfState before, ConfState after, long lastLogIndex);
    }

    /** Sets the one {@link MembershipListener} of this group (null for none). */
    public void onMembershipApplied(MembershipListener listener) {
        membershipListener = listener;
    }

    void membershipApplied(int storeId, long index, long term, ConfState before, ConfState after, long lastLogIndex) {
        if (membershipListener != null) {
            membershipListener.applied(storeId, index, term, before, after, lastLogIndex);
        }
    }

    /**
     * Told of every message delivered to a live store's replica of this group, before the replica
     * takes it; returns whether the replica takes it (a runtime drops every message for a replica
     * that learned it was removed, as the server's does).
     */
    @FunctionalInterface
    public interface DeliveryListener {
        boolean delivered(int storeId, Message message);
    }

    /** Sets the one {@link DeliveryListener} of this group (null for none). */
    public void onDelivery(DeliveryListener listener) {
        deliveryListener = listener;
    }

    boolean delivered(int storeId, Message message) {
        return deliveryListener == null || deliveryListener.delivered(storeId, message);
    }

    private AssertionError checkerFailure(String message) {
        return sim.fail(sim.options().groups() == 1 ? message : "group " + id + ": " + message);
    }

    public long readsConfirmed() {
        return readsConfirmed;
    }

    public void transferLeader(int storeId, int target) {
        SimStore store = sim.store(storeId);
        if (store.running()) {
            SimReplica replica = store.replica(id);
            store.run("transferLeader", () -> {
                replica.transferLeader(target);
                replica.processInput();
            });
        }
    }

    /**
     * Delivers {@code message} to its store's replica right now, bypassing the network: for
     * scenarios that place a message the sender could have sent at an exact moment.
     */
    public void deliverNow(Message message) {
        SimStore store = sim.store((int) message.getTo());
        if (store.running()) {
            sim.trace("deliver now " + SimTrace.describe(message) + groupSuffix());
            SimReplica replica = store.replica(id);
            replica.receive(message);
            store.run("a delivery", () -> replica.turn(0));
        }
    }

    // ---- observations ----

    public boolean isLeader(int storeId) {
        return node(storeId).isLeader();
    }

    public long term(int storeId) {
        return node(storeId).term();
    }

    /** Live replicas that think they are leader, in store id order. */
    public List<Integer> leaders() {
        List<Integer> leaders = new ArrayList<>();
        for (int storeId = 1; storeId <= sim.nodeCount(); storeId++) {
            if (isLeader(storeId)) {
                leaders.add(storeId);
            }
        }
        return leaders;
    }

    /** The leader with the highest term, or 0 when no replica thinks it leads. */
    public int newestLeader() {
        int leader = 0;
        long leaderTerm = -1;
        for (int storeId : leaders()) {
            if (term(storeId) > leaderTerm) {
                leader = storeId;
                leaderTerm = term(storeId);
            }
        }
        return leader;
    }

    /** Highest index any replica of this group applied. */
    public long highestAppliedIndex() {
        return checker.highestAppliedIndex();
    }

    /**
     * 6.824's {@code nCommitted(index)}: how many replicas applied {@code index} (in any
     * incarnation), and the command there (null when none did, or when it holds no command).
     */
    public Simulator.Committed committedAt(long index) {
        int count = 0;
        for (int storeId = 1; storeId <= sim.nodeCount(); storeId++) {
            if (node(storeId).hasApplied(index)) {
                count++;
            }
        }
        ByteString data = checker.appliedData(index);
        SimCommand command = count == 0 || data == null || data.size() < SimCommand.HEADER_BYTES ? null
                : SimCommand.decode(data);
        return new Simulator.Committed(count, command);
    }

    private String groupSuffix() {
        return sim.options().groups() == 1 ? "" : " (group " + id + ")";
    }
}
