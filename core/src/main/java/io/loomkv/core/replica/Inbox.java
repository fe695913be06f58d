package io.loomkv.core.replica;

import io.loomkv.core.raft.proto.Message;

/** The peer messages that arrived for a replica, taken one at a time by its turn. */
@FunctionalInterface
public interface Inbox {

    Inbox EMPTY = () -> null;

    /** The next message, or null when none is waiting. */
    Message poll();
}
