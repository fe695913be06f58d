package io.loomkv.core.raft.confchange;

import io.loomkv.core.raft.proto.ConfChangeSingle;
import io.loomkv.core.raft.quorum.JointConfig;
import io.loomkv.core.raft.quorum.MajorityConfig;
import io.loomkv.core.raft.tracker.Progress;
import io.loomkv.core.raft.tracker.ProgressTracker;
import io.loomkv.core.raft.tracker.TrackerConfig;
import java.util.List;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeSet;

/**
 * Computes the next membership from the current one and a configuration change, without
 * touching the tracker (etcd's confchange.Changer). Every method works on copies and throws
 * {@link IllegalArgumentException} for a change that is not allowed, leaving the tracker as
 * it was.
 */
public final class Changer {
    /** A membership and the progress map that goes with it. */
    public record Result(TrackerConfig config, NavigableMap<Long, Progress> progress) {
    }

    private final ProgressTracker tracker;
    private final long lastIndex;

    /** {@code lastIndex} seeds the progress of added nodes (the leader probes from there). */
    public Changer(ProgressTracker tracker, long lastIndex) {
        this.tracker = tracker;
        this.lastIndex = lastIndex;
    }

    /** Enters a joint configuration: the current voters become the outgoing half. */
    public Result enterJoint(boolean autoLeave, List<ConfChangeSingle> changes) {
        Working w = working();
        if (w.isJoint()) {
            throw new IllegalArgumentException("config is already joint: " + tracker.config().voters());
        }
        if (w.incoming.isEmpty()) {
            throw new IllegalArgumentException("can't make a zero-voter config joint");
        }
        w.outgoing.addAll(w.incoming);
        w.apply(changes);
        w.autoLeave = autoLeave;
        return w.result();
    }

    /** Leaves the joint configuration: the outgoing half goes, learnersNext become learners. */
    public Result leaveJoint() {
        Working w = working();
        if (!w.isJoint()) {
            throw new IllegalArgumentException("can't leave a non-joint config: " + tracker.config().voters());
        }
        for (long id : w.learnersNext) {
            w.learners.add(id);
            Progress pr = w.progress.get(id);
            if (pr == null) {
                throw new IllegalStateException("learnerNext " + id + " has no progress");
            }
            pr.setLearner(true);
        }
        w.learnersNext.clear();
        for (long id : w.outgoing) {
            if (!w.incoming.contains(id) && !w.learners.contains(id)) {
                w.progress.remove(id);
            }
        }
        w.outgoing.clear();
        w.autoLeave = false;
        return w.result();
    }

    /** A change of at most one voter, applied directly without a joint configuration. */
    public Result simple(List<ConfChangeSingle> changes) {
        Working w = working();
        if (w.isJoint()) {
            throw new IllegalArgumentException("can't apply a simple config change in a joint config");
        }
        Set<Long> before = new TreeSet<>(w.incoming);
        w.apply(changes);
        int changed = symmetricDifference(before, w.incoming);
        if (changed > 1) {
            throw new IllegalArgumentException("more than one voter changed without entering joint config: "
                    + before + " -> " + w.incoming);
        }
        return w.result();
    }

    private static int symmetricDifference(Set<Long> a, Set<Long> b) {
        int n = 0;
        for (long id : a) {
            if (!b.contains(id)) {
                n++;
            }
        }
        for (long id : b) {
            if (!a.contains(id)) {
                n++;
            }
        }
        return n;
    }

    private Working working() {
        TrackerConfig c = tracker.config();
        Working w = new Working();
        w.incoming.addAll(c.voters().incoming().ids());
        w.outgoing.addAll(c.voters().outgoing().ids());
        w.learners.addAll(c.learners());
        w.learnersNext.addAll(c.learnersNext());
        w.autoLeave = c.autoLeave();
        w.progress = tracker.copyProgress();
        return w;
    }

    /** A mutable copy of the membership being changed. */
    private final class Working {
        final TreeSet<Long> incoming = new TreeSet<>();
        final TreeSet<Long> outgoing = new TreeSet<>();
        final TreeSet<Long> learners = new TreeSet<>();
        final TreeSet<Long> learnersNext = new TreeSet<>();
        boolean autoLeave;
        NavigableMap<Long, Progress> progress;

        boolean isJoint() {
            return !outgoing.isEmpty();
        }

        void apply(List<ConfChangeSingle> changes) {
            for (ConfChangeSingle change : changes) {
                long id = change.getNodeId();
                if (id == 0) {
                    // etcd treats a zero id as a no-op, so that a change can be neutralised in place.
                    continue;
                }
                switch (change.getType()) {
                    case CONF_CHANGE_ADD_NODE -> makeVoter(id);
                    case CONF_CHANGE_ADD_LEARNER_NODE -> makeLearner(id);
                    case CONF_CHANGE_REMOVE_NODE -> remove(id);
                    default -> throw new IllegalArgumentException("unknown conf change type " + change.getType());
                }
            }
            if (incoming.isEmpty()) {
                throw new IllegalArgumentException("removed all voters");
            }
        }

        void makeVoter(long id) {
            Progress pr = progress.get(id);
            if (pr == null) {
                initProgress(id, false);
                return;
            }
            pr.setLearner(false);
            learners.remove(id);
            learnersNext.remove(id);
            incoming.add(id);
        }

        void makeLearner(long id) {
            Progress pr = progress.get(id);
            if (pr == null) {
                initProgress(id, true);
                return;
            }
            if (pr.isLearner()) {
                return;
            }
            // Remove it as a voter first; keep its progress, which remove() may have dropped.
            remove(id);
            progress.put(id, pr);
            if (outgoing.contains(id)) {
                // Still a voter of the outgoing half: it becomes a learner when the joint config is left.
                learnersNext.add(id);
            } else {
                pr.setLearner(true);
                learners.add(id);
            }
        }

        void remove(long id) {
            if (!progress.containsKey(id)) {
                return;
            }
            incoming.remove(id);
            learners.remove(id);
            learnersNext.remove(id);
            if (!outgoing.contains(id)) {
                progress.remove(id);
            }
        }

        void initProgress(long id, boolean learner) {
            if (learner) {
                learners.add(id);
            } else {
                incoming.add(id);
            }
            // Probe from the leader's last index; the follower's rejection hints walk it back.
            Progress pr = new Progress(0, Math.max(lastIndex, 1), tracker.maxInflight(), tracker.maxInflightBytes(), learner);
            // A new node counts as active so that CheckQuorum does not immediately depose the leader.
            pr.setRecentActive(true);
            progress.put(id, pr);
        }

        Result result() {
            TrackerConfig config = new TrackerConfig(
                    new JointConfig(new MajorityConfig(incoming), new MajorityConfig(outgoing)),
                    learners, learnersNext, autoLeave);
            for (long id : config.voters().ids()) {
                if (!progress.containsKey(id)) {
                    throw new IllegalStateException("no progress for voter " + id);
                }
            }
            for (long id : learners) {
                Progress pr = progress.get(id);
                if (pr == null || !pr.isLearner()) {
                    throw new IllegalStateException("learner " + id + " has progress " + pr);
                }
            }
            for (long id : learnersNext) {
                Progress pr = progress.get(id);
                if (pr == null || pr.isLearner()) {
                    throw new IllegalStateException("learnerNext " + id + " has progress " + pr);
                }
            }
            return new Result(config, progress);
        }
    }
}
