package io.loomkv.core.raft.sim;

import io.loomkv.core.raft.proto.ConfChange;
import io.loomkv.core.raft.proto.ConfChangeSingle;
import io.loomkv.core.raft.proto.ConfChangeTransition;
import io.loomkv.core.raft.proto.ConfChangeType;

/** Membership changes the scenarios and randomized runs propose. */
public final class ConfChanges {

    private ConfChanges() {}

    public static ConfChange addLearner(long id) {
        return simple(ConfChangeType.CONF_CHANGE_ADD_LEARNER_NODE, id);
    }

    /** Adds a voter, or promotes a learner. */
    public static ConfChange addVoter(long id) {
        return simple(ConfChangeType.CONF_CHANGE_ADD_NODE, id);
    }

    public static ConfChange remove(long id) {
        return simple(ConfChangeType.CONF_CHANGE_REMOVE_NODE, id);
    }

    /** Replaces voter {@code removed} by {@code added} through a joint configuration left automatically. */
    public static ConfChange replace(long added, long removed) {
        return ConfChange.newBuilder()
                .setTransition(ConfChangeTransition.CONF_CHANGE_TRANSITION_AUTO)
                .addChanges(single(ConfChangeType.CONF_CHANGE_ADD_NODE, added))
                .addChanges(single(ConfChangeType.CONF_CHANGE_REMOVE_NODE, removed))
                .build();
    }

    /** Replaces through a joint configuration that must be left explicitly with {@link #leaveJoint()}. */
    public static ConfChange replaceExplicit(long added, long removed) {
        return replace(added, removed).toBuilder()
                .setTransition(ConfChangeTransition.CONF_CHANGE_TRANSITION_JOINT_EXPLICIT)
                .build();
    }

    public static ConfChange leaveJoint() {
        return ConfChange.getDefaultInstance();
    }

    private static ConfChange simple(ConfChangeType type, long id) {
        return ConfChange.newBuilder().addChanges(single(type, id)).build();
    }

    private static ConfChangeSingle single(ConfChangeType type, long id) {
        return ConfChangeSingle.newBuilder().setType(type).setNodeId(id).build();
    }
}
