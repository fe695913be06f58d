package io.loomkv.core.raft.confchange;

import io.loomkv.core.raft.proto.ConfChangeSingle;
import io.loomkv.core.raft.proto.ConfChangeType;
import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.tracker.ProgressTracker;
import java.util.ArrayList;
import java.util.List;

/**
 * Rebuilds a tracker's membership from a persisted {@link ConfState} by replaying it as a
 * series of changes through {@link Changer}, so the same rules check it (etcd's
 * confchange.Restore).
 */
public final class Restore {
    private Restore() {
    }

    public static void restore(ProgressTracker tracker, ConfState state, long lastIndex) {
        List<ConfChangeSingle> outgoing = new ArrayList<>();
        List<ConfChangeSingle> incoming = new ArrayList<>();
        if (state.getVotersOutgoingCount() == 0) {
            for (long id : state.getVotersList()) {
                incoming.add(single(ConfChangeType.CONF_CHANGE_ADD_NODE, id));
            }
            for (long id : state.getLearnersList()) {
                incoming.add(single(ConfChangeType.CONF_CHANGE_ADD_LEARNER_NODE, id));
            }
            if (state.getLearnersNextCount() > 0 || state.getAutoLeave()) {
                throw new IllegalArgumentException("learnersNext/autoLeave set outside a joint config: " + state);
            }
        } else {
            for (long id : state.getVotersOutgoingList()) {
                outgoing.add(single(ConfChangeType.CONF_CHANGE_ADD_NODE, id));
                incoming.add(single(ConfChangeType.CONF_CHANGE_REMOVE_NODE, id));
            }
            for (long id : state.getVotersList()) {
                incoming.add(single(ConfChangeType.CONF_CHANGE_ADD_NODE, id));
            }
            for (long id : state.getLearnersList()) {
                incoming.add(single(ConfChangeType.CONF_CHANGE_ADD_LEARNER_NODE, id));
            }
            for (long id : state.getLearnersNextList()) {
                incoming.add(single(ConfChangeType.CONF_CHANGE_ADD_LEARNER_NODE, id));
            }
        }
        if (state.getVotersOutgoingCount() == 0) {
            // One change at a time, each a legal simple change.
            for (ConfChangeSingle change : incoming) {
                Changer.Result r = new Changer(tracker, lastIndex).simple(List.of(change));
                tracker.apply(r.config(), r.progress());
            }
            return;
        }
        for (ConfChangeSingle change : outgoing) {
            Changer.Result r = new Changer(tracker, lastIndex).simple(List.of(change));
            tracker.apply(r.config(), r.progress());
        }
        Changer.Result r = new Changer(tracker, lastIndex).enterJoint(state.getAutoLeave(), incoming);
        tracker.apply(r.config(), r.progress());
    }

    private static ConfChangeSingle single(ConfChangeType type, long id) {
        return ConfChangeSingle.newBuilder().setType(type).setNodeId(id).build();
    }
}
