package io.loomkv.core.raft.tracker;

import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.quorum.JointConfig;
import io.loomkv.core.raft.quorum.MajorityConfig;
import java.util.Set;
import java.util.TreeSet;

/**
 * A cluster membership: the (possibly joint) voters, the learners, and the learners-to-be.
 *
 * <p>{@code learnersNext} holds voters of the outgoing configuration that are to become
 * learners once the joint configuration is left: a node cannot be a voter and a learner at
 * the same time, so the demotion waits (etcd's LearnersNext).
 */
public record TrackerConfig(JointConfig voters, Set<Long> learners, Set<Long> learnersNext, boolean autoLeave) {

    public TrackerConfig {
        learners = Set.copyOf(new TreeSet<>(learners));
        learnersNext = Set.copyOf(new TreeSet<>(learnersNext));
        for (long id : learners) {
            if (voters.contains(id)) {
                throw new IllegalStateException("node " + id + " is both voter " + voters + " and learner " + learners);
            }
        }
        for (long id : learnersNext) {
            if (!voters.outgoing().contains(id)) {
                throw new IllegalStateException("learnerNext " + id + " is not an outgoing voter " + voters.outgoing());
            }
        }
        if (autoLeave && !voters.isJoint()) {
            throw new IllegalStateException("autoLeave set outside a joint config " + voters);
        }
    }

    public static TrackerConfig empty() {
        return new TrackerConfig(new JointConfig(MajorityConfig.empty(), MajorityConfig.empty()), Set.of(), Set.of(), false);
    }

    /** The membership in its persisted form. */
    public ConfState toConfState() {
        return ConfState.newBuilder()
                .addAllVoters(voters.incoming().ids())
                .addAllVotersOutgoing(voters.outgoing().ids())
                .addAllLearners(new TreeSet<>(learners))
                .addAllLearnersNext(new TreeSet<>(learnersNext))
                .setAutoLeave(autoLeave)
                .build();
    }

    /** Whether {@code id} is a voter or learner of this configuration. */
    public boolean isMember(long id) {
        return voters.contains(id) || learners.contains(id) || learnersNext.contains(id);
    }
}
