package io.loomkv.net.node;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.RaftNode;
import io.loomkv.core.raft.RequestDroppedException;
import io.loomkv.core.raft.proto.ConfChange;
import io.loomkv.core.raft.proto.ConfChangeSingle;
import io.loomkv.core.raft.proto.ConfChangeType;
import io.loomkv.core.replica.RemovalNotices;
import io.loomkv.core.shard.GroupIds;
import io.loomkv.core.shard.ReplicaMovePlanner;
import io.loomkv.core.shard.SlotLayout;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out the controller's replica moves (docs/shard-controller.md, "Moving a replica"): for
 * each group this store leads (the controller's own included) whose membership differs from the store list of the newest
 * configuration, it takes one step with the group's own membership changes: add the new store as
 * a learner; once its log is within {@value ReplicaMovePlanner#PROMOTE_GAP_ENTRIES} entries of the
 * leader's, one joint change that makes it a voter and removes the old store (left automatically).
 * When the store to remove is this leader, it first hands leadership to a caught-up voter the
 * configuration keeps, which then does the rest. A store removed from a managed group stops its
 * replica and deletes the group's log, snapshots and engine (a removed replica never serves again;
 * if a later move brings the group back, its leader fills a new one).
 *
 * <p>Only groups the controller has moved a replica of ({@code replica_changes > 0}) are managed:
 * before that, a group's membership is the one it was created with plus whatever {@code ctl member}
 * did, and that stays the operator's. Like {@link MigrationDriver}: one virtual thread per store;
 * it decides from published values (the configuration, each replica's applied membership), so a
 * group that has nothing to do is not woken; it only proposes, and every step re-reads the node's
 * state on the group's turn, so a step planned from stale knowledge, repeated, or by a leader about
 * to lose its term proposes nothing wrong (Raft refuses a second pending conf change, and a
 * change that no longer fits is not proposed).
 */
final class ReplicaPlacementDriver implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaPlacementDriver.class);
    static final long ROUND_MILLIS = 200;
    /**
     * The longest pause while every managed group here has the stores its configuration lists; a
     * newer configuration wakes the driver ({@link #wake}), and a leader that lands here during a
     * move is noticed within this.
     */
    static final long IDLE_ROUND_MILLIS = 1_000;
    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(5);
    /** What the driver needs from its store. */
    interface Host {
        long storeId();

        Iterable<Replica> replicas();

        /** The newest configuration this store knows. */
        SlotLayout layout();

        Membership addresses();

        /** Stops this store's removed replica of {@code groupId} and deletes its data. */
        void dropReplica(long groupId);
    }

    private final Host host;
    private final RoundLoop loop;

    ReplicaPlacementDriver(Host host) {
        this.host = host;
        this.loop = new RoundLoop("placement-" + host.storeId(), ROUND_MILLIS, IDLE_ROUND_MILLIS, this::round,
                e -> LOG.warn("store {}: replica placement round failed: {}", host.storeId(), e.toString()));
    }

    void start() {
        loop.start();
    }

    @Override
    public void close() {
        loop.close();
    }

    /** See {@link ReplicaMovePlanner#managed}. */
    static boolean managed(SlotLayout layout, long groupId) {
        return ReplicaMovePlanner.managed(layout, groupId);
    }

    /**
     * The moves coming in to {@code store}, as {@link ReplicaMovePlanner#mayCreate} counts them:
     * replicas of managed groups here in which this store is not a voter yet.
     */
    static int incomingMoves(SlotLayout layout, long store, Iterable<Replica> hosted) {
        int incoming = 0;
        for (Replica replica : hosted) {
            if (managed(layout, replica.groupId()) && !replica.state().removed() && !replica.voters().contains(store)) {
                incoming++;
            }
        }
        return incoming;
    }

    private RoundLoop.Outcome round() throws InterruptedException {
        SlotLayout layout = host.layout();
        boolean underWay = false;
        for (Replica replica : host.replicas()) {
            long group = replica.groupId();
            if (loop.closed() || !managed(layout, group)) {
                continue;
            }
            List<Long> target = layout.replicas(group);
            if (replica.state().removed()) {
                // A removed replica never serves again: if a later move brings the group back here,
                // its leader adds this store afresh and the first message creates a new, empty one.
                host.dropReplica(group);
                underWay = true;
                continue;
            }
            if (!target.contains(host.storeId()) && RemovalNotices.knowsNoMembership(replica.confState())) {
                // An empty replica the group moved away from before its leader filled it.
                replica.submit(new LoopInput.Control(node -> replica.retireIfAbandoned()));
                underWay = true;
                continue;
            }
            long applied = appliedConfigNumber(replica);
            if (applied == layout.version() && !ReplicaMovePlanner.differs(replica.confState(), target)) {
                continue; // Settled: it applied this configuration and its membership is the one listed.
            }
            underWay = true;
            boolean leads = replica.state().isLeader() && replica.state().unavailableReason() == null;
            if (ReplicaMovePlanner.needsStep(leads, applied, layout.version(), replica.confState(), target)) {
                step(replica, target);
            }
        }
        return underWay ? RoundLoop.Outcome.WAIT : RoundLoop.Outcome.IDLE;
    }

    /** A newer configuration was taken: the next round runs now rather than after an idle pause. */
    void wake() {
        loop.wake();
    }

    /**
     * The configuration {@code replica}'s group has applied through its own log: a data group's walk,
     * or for group 0 the newest configuration the controller made (so the controller's leader moves
     * its own replicas only once it has applied the configuration that says so).
     */
    private static long appliedConfigNumber(Replica replica) {
        if (replica.groupId() != GroupIds.CONTROLLER_GROUP_ID) {
            return replica.configNumber();
        }
        SlotLayout latest = replica.latestControllerConfig();
        return latest == null ? 0 : latest.version();
    }

    private void step(Replica replica, List<Long> target) throws InterruptedException {
        CompletableFuture<String> done = new CompletableFuture<>();
        if (!replica.submit(new LoopInput.Control(node -> done.complete(plan(replica, node, Set.copyOf(target)))))) {
            return;
        }
        try {
            String action = done.get(STEP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            if (action != null) {
                LOG.info("store {}: group {} towards stores {}: {}", host.storeId(), replica.groupId(), target, action);
            }
        } catch (ExecutionException | TimeoutException e) {
            LOG.debug("store {}: group {}: placement step got no answer: {}", host.storeId(), replica.groupId(), e.toString());
        }
    }

    /**
     * One step, on the group's turn, from the node's own state ({@link ReplicaMovePlanner} decides):
     * what was proposed (null when nothing, because the group is between steps or already there).
     */
    private String plan(Replica replica, RaftNode node, Set<Long> target) {
        if (!replica.state().isLeader() || replica.state().removed()) {
            return null;
        }
        ReplicaMovePlanner.Decision decision = ReplicaMovePlanner.next(host.storeId(), node.status(), target);
        decision.holdPromotion().ifPresent(replica::holdPromotion);
        return switch (decision.step()) {
            case ReplicaMovePlanner.Wait w -> null;
            case ReplicaMovePlanner.RemoveLearner r -> propose(node, "removing learner " + r.store()
                    + ", which the configuration no longer lists", change(ConfChangeType.CONF_CHANGE_REMOVE_NODE, r.store()));
            case ReplicaMovePlanner.TransferLeadership t -> {
                node.transferLeader(t.store());
                yield "this store leaves the group: handing leadership to store " + t.store();
            }
            case ReplicaMovePlanner.AddLearner a -> propose(node, "adding store " + a.store() + " as a learner",
                    change(ConfChangeType.CONF_CHANGE_ADD_LEARNER_NODE, a.store()));
            case ReplicaMovePlanner.Promote p -> propose(node, "promoting learner " + p.store(),
                    change(ConfChangeType.CONF_CHANGE_ADD_NODE, p.store()));
            case ReplicaMovePlanner.Replace r -> propose(node, "joint change: store " + r.added()
                    + " becomes a voter and store " + r.removed() + " leaves",
                    change(ConfChangeType.CONF_CHANGE_ADD_NODE, r.added()), change(ConfChangeType.CONF_CHANGE_REMOVE_NODE, r.removed()));
            case ReplicaMovePlanner.RemoveVoter r -> propose(node, "removing store " + r.store(),
                    change(ConfChangeType.CONF_CHANGE_REMOVE_NODE, r.store()));
        };
    }

    private ConfChangeSingle change(ConfChangeType type, long store) {
        return ConfChangeSingle.newBuilder().setType(type).setNodeId(store).build();
    }

    /** Proposes the changes (several: one joint change, left automatically); the added store's addresses ride along. */
    private String propose(RaftNode node, String what, ConfChangeSingle... changes) {
        ConfChange.Builder change = ConfChange.newBuilder();
        for (ConfChangeSingle single : changes) {
            change.addChanges(single);
            if (single.getType() != ConfChangeType.CONF_CHANGE_REMOVE_NODE) {
                MemberAddress address = host.addresses().get(single.getNodeId());
                if (address == null) {
                    return null; // Not a member of the cluster: the store that admitted the move checked; wait.
                }
                change.setContext(ByteString.copyFrom(address.toContext()));
            }
        }
        try {
            node.proposeConfChange(change.build());
            return what;
        } catch (RequestDroppedException e) {
            return null; // Another change is pending; the next round looks again.
        }
    }
}
