package io.loomkv.core.replica;

import io.loomkv.core.raft.proto.MessageType;

/**
 * The Raft messages only a leader sends (appends, heartbeats, snapshot chunks): one may create an
 * empty replica for its leader to fill, and each tells a replica that a leader reaches it.
 */
public final class LeaderMessages {
    private LeaderMessages() {
    }

    public static boolean isLeaderMessage(MessageType type) {
        return type == MessageType.MSG_APP || type == MessageType.MSG_HEARTBEAT || type == MessageType.MSG_SNAP;
    }
}
