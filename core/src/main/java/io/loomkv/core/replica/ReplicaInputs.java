package io.loomkv.core.replica;

import io.loomkv.core.raft.RaftNode;

/**
 * The local inputs of one turn (client writes and reads, membership requests), handed to the node
 * by the runtime's own batching: the KV service turns many queued writes into one proposal and
 * many reads into one ReadIndex round. Called after the turn's ticks and messages.
 */
@FunctionalInterface
public interface ReplicaInputs {

    ReplicaInputs NONE = node -> false;

    /** Hands queued inputs to {@code node} (bounded per call); returns whether there were any. */
    boolean drainInto(RaftNode node);
}
