package io.loomkv.core.raft.sim;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.proto.Entry;

/**
 * The replicated state machine a {@link SimReplica} applies committed entries to: the toy
 * {@link SimStateMachine} by default, or a real one (the KV state machine of the sharded runs)
 * given to the {@link Simulator} as a {@link Factory}. One instance lives as long as one
 * incarnation of its replica; a restart builds a new one and restores the WAL's snapshot into it.
 */
public interface SimMachine {

    /** Builds the state machine of a new incarnation of a replica of {@code group} (1-based simulator group). */
    @FunctionalInterface
    interface Factory {
        SimMachine create(int group);
    }

    long appliedIndex();

    /**
     * A digest of the applied state, the same on every replica at the same index (the checker's
     * state machine safety compares them).
     */
    long stateHash();

    /**
     * Applies the committed entry (its index must follow {@link #appliedIndex()}); configuration
     * changes and empty entries are applied too, as entries without a command.
     *
     * @return null, or a description of the broken rule
     */
    String apply(Entry entry);

    /** The state as snapshot data, at {@link #appliedIndex()}. */
    ByteString snapshot();

    /** Replaces the state with a snapshot's; {@code snapshotIndex} must match what it holds. */
    void restore(ByteString data, long snapshotIndex);
}
