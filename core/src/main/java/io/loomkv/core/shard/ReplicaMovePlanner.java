package io.loomkv.core.shard;

import io.loomkv.core.raft.Status;
import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.tracker.ProgressState;
import java.util.Collection;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The decisions of a replica move (docs/shard-controller.md, "Moving a replica"), without I/O: from
 * a group leader's own Raft status and the store list the newest configuration gives the
 * group, the one membership step to take next. The server's placement driver
 * ({@code net/.../ReplicaPlacementDriver}) and the simulator's mover both read the inputs on the
 * group's turn, call {@link #next}, and carry out what it returns; so the simulator runs the
 * server's decisions under seeds.
 *
 * <p>Every step is a single proposal (or a leadership transfer) that the Raft core checks against
 * its own state: one pending conf change at a time, a stale leader's proposal dropped. So a step
 * decided from a status that is already old, or taken twice, proposes nothing wrong. Pure and
 * stateless.
 */
public final class ReplicaMovePlanner {
    /**
     * A learner whose log is this close to the leader's counts as caught up: it may become a
     * voter without stalling commits while it fetches the rest.
     */
    public static final long PROMOTE_GAP_ENTRIES = 64;
    /**
     * Replicas of managed groups a store fills at once: a move is in progress on its receiving
     * store from the leader's first message until the store is a voter, and a third move waits
     * until one of those finishes.
     */
    public static final int MAX_INCOMING_MOVES = 2;

    private ReplicaMovePlanner() {
    }

    /** One step towards the configuration's store list. */
    public sealed interface Step {
    }

    /** Nothing to do now: the group is there, between steps, or waiting for a learner or a transfer. */
    public record Wait() implements Step {
    }

    /** Remove {@code store}, a learner the configuration no longer lists (an abandoned move). */
    public record RemoveLearner(long store) implements Step {
    }

    /** This leader is the store to remove: hand leadership to {@code store}, which keeps its replica. */
    public record TransferLeadership(long store) implements Step {
    }

    /** Bring {@code store} in as a learner, to be filled by the leader. */
    public record AddLearner(long store) implements Step {
    }

    /** Make the caught-up learner {@code store} a voter, alone (no voter leaves, or this leader cannot remove itself). */
    public record Promote(long store) implements Step {
    }

    /** One joint change: the caught-up learner {@code added} becomes a voter and the voter {@code removed} leaves. */
    public record Replace(long added, long removed) implements Step {
    }

    /** Remove the voter {@code store}, which the configuration no longer lists and no learner replaces. */
    public record RemoveVoter(long store) implements Step {
    }

    /**
     * The step, and the learners whose automatic promotion the replica must hold back from now on
     * (empty: leave the held set as it is), so that the joint change, not a lone promotion, makes
     * them voters.
     */
    public record Decision(Step step, Optional<Set<Long>> holdPromotion) {
        public Decision {
            if (step == null || holdPromotion == null) {
                throw new IllegalArgumentException("a decision needs a step and a hold (maybe empty), got " + step
                        + ", " + holdPromotion);
            }
        }
    }

    /**
     * Whether the controller manages {@code groupId}'s membership under {@code layout}: it moved one
     * of its replicas (group 0's own included, when the layout lists the controller's stores).
     */
    public static boolean managed(SlotLayout layout, long groupId) {
        if (groupId == GroupIds.CONTROLLER_GROUP_ID) {
            return !layout.controllerStores().isEmpty() && layout.replicaChanges(groupId) > 0;
        }
        return layout.hasGroup(groupId) && layout.replicaChanges(groupId) > 0;
    }

    /**
     * Whether {@code store} may create an empty replica of {@code groupId} for its leader to fill,
     * with {@code incomingMoves} replicas of managed groups there in which it is not a voter yet
     * (created empty, or a learner catching up). Always for a group the controller does not manage.
     * For a managed group, only when the configuration places it here (a message to a store the
     * group moved away from is stale), and only while fewer than {@value #MAX_INCOMING_MOVES} moves
     * are coming in: so a store never takes more than that many snapshots of moved replicas at once.
     */
    public static boolean mayCreate(SlotLayout layout, long groupId, long store, int incomingMoves) {
        if (!managed(layout, groupId)) {
            return true;
        }
        return layout.replicas(groupId).contains(store) && incomingMoves < MAX_INCOMING_MOVES;
    }

    /**
     * Whether a group's replica should take a step at all, from published values only (so a group
     * with nothing to do is not woken): it leads, its applied membership differs from
     * {@code target}, and it has applied configuration {@code configNumber} through its own log. A
     * store whose view of the controller lags (just restarted, asked a lagging controller replica)
     * could otherwise take a step back towards an older store list.
     */
    public static boolean needsStep(boolean leads, long appliedConfigNumber, long configNumber, ConfState applied,
            Collection<Long> target) {
        return leads && appliedConfigNumber == configNumber && differs(applied, target);
    }

    /** Whether {@code applied} is other than exactly {@code target} as voters, with no learner and no joint configuration. */
    public static boolean differs(ConfState applied, Collection<Long> target) {
        return applied.getLearnersCount() > 0 || applied.getVotersOutgoingCount() > 0
                || !new TreeSet<>(applied.getVotersList()).equals(new TreeSet<>(target));
    }

    /**
     * The next step of leader {@code self} of a group, from its Raft status taken on the group's
     * turn, towards the store list {@code target}.
     */
    public static Decision next(long self, Status status, Set<Long> target) {
        if (target.isEmpty()) {
            throw new IllegalArgumentException("a configuration places a group on at least one store");
        }
        ConfState conf = status.confState();
        if (conf.getVotersOutgoingCount() > 0) {
            return waitFor(); // A joint change is being left automatically.
        }
        TreeSet<Long> voters = new TreeSet<>(conf.getVotersList());
        TreeSet<Long> learners = new TreeSet<>(conf.getLearnersList());
        TreeSet<Long> toRemove = new TreeSet<>(voters);
        toRemove.removeAll(target);
        TreeSet<Long> toAdd = new TreeSet<>(target);
        toAdd.removeAll(voters);
        toAdd.removeAll(learners);
        for (long learner : learners) {
            if (!target.contains(learner)) {
                return new Decision(new RemoveLearner(learner), Optional.empty());
            }
        }
        // The leader hands over before anything else, so the leader that adds the new store is the
        // one that promotes it in the joint change (a new leader's automatic promotion would
        // otherwise race it: still safe, but in two steps).
        boolean leaderLeaves = toRemove.contains(self);
        if (leaderLeaves) {
            if (status.leadTransferee() != 0) {
                return waitFor();
            }
            long successor = successor(self, status, target);
            if (successor != 0) {
                return new Decision(new TransferLeadership(successor), Optional.empty());
            }
            // No voter the configuration keeps has the log yet (a group of one): bring the new store in first.
        }
        if (!learners.isEmpty()) {
            long learner = learners.first();
            Optional<Set<Long>> hold = Optional.of(Set.copyOf(learners));
            if (!caughtUp(status, learner)) {
                return new Decision(new Wait(), hold);
            }
            if (toRemove.isEmpty() || leaderLeaves) {
                return new Decision(new Promote(learner), hold);
            }
            return new Decision(new Replace(learner, toRemove.first()), hold);
        }
        if (!toAdd.isEmpty()) {
            long joining = toAdd.first();
            return new Decision(new AddLearner(joining), Optional.of(Set.of(joining)));
        }
        Optional<Set<Long>> none = Optional.of(Set.of());
        if (!toRemove.isEmpty() && !leaderLeaves && voters.size() > 1) {
            return new Decision(new RemoveVoter(toRemove.first()), none);
        }
        return new Decision(new Wait(), none);
    }

    /** Whether {@code learner}'s log is replicating and within {@link #PROMOTE_GAP_ENTRIES} of the leader's last index. */
    public static boolean caughtUp(Status status, long learner) {
        Status.FollowerProgress progress = status.progress().get(learner);
        return progress != null && progress.state() == ProgressState.REPLICATE && progress.match() > 0
                && progress.match() + PROMOTE_GAP_ENTRIES >= status.lastIndex();
    }

    /** The replicating voter the configuration keeps with the longest log (ties: the lowest id), or 0 when none qualifies. */
    private static long successor(long self, Status status, Set<Long> target) {
        long best = 0;
        long bestMatch = -1;
        for (long voter : new TreeSet<>(status.confState().getVotersList())) {
            Status.FollowerProgress progress = status.progress().get(voter);
            if (voter != self && target.contains(voter) && progress != null
                    && progress.state() == ProgressState.REPLICATE && progress.match() > bestMatch) {
                best = voter;
                bestMatch = progress.match();
            }
        }
        return best;
    }

    private static Decision waitFor() {
        return new Decision(new Wait(), Optional.empty());
    }
}
