package io.loomkv.core.replica;

import io.loomkv.core.raft.ReadState;
import io.loomkv.core.raft.Ready;
import io.loomkv.core.raft.SnapshotChunk;
import io.loomkv.core.raft.SoftState;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.HardState;
import io.loomkv.core.raft.proto.Message;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import java.util.List;

/**
 * Everything a {@link ReplicaDriver} asks of the world, for one replica: the network, the log's
 * durable storage, the apply stage. The store runtime implements it over the shared WAL, the peer
 * transport and the apply workers; the simulator over its simulated WAL and network. Every call
 * comes from the thread that currently runs the replica's turn.
 */
public interface ReplicaIo {

    /** Queues {@code message} for its peer; false when it could not be (the driver reports the peer unreachable). */
    boolean send(Message message);

    /** Starts writing entries and/or a hard state; returns how to learn that it is durable. */
    Durability persist(HardState hardState, List<Entry> entries, boolean mustSync);

    /** Stages a received snapshot chunk (a chunk at offset 0 starts a new transfer). */
    void stageSnapshotChunk(SnapshotChunk chunk);

    /**
     * Installs the snapshot staged from the chunks: durable when this returns, and its restore
     * handed to the apply stage (ordered before any entry handed on after it).
     */
    void installSnapshot(SnapshotMetadata metadata);

    /** Hands committed entries to the apply stage, in log order. */
    void apply(CommittedEntries committed);

    /** ReadIndex reads that a quorum confirmed: serve each once the applied index reaches its index. */
    void readsConfirmed(List<ReadState> readStates);

    /** The leader or the role changed. */
    void softStateChanged(SoftState softState);

    /**
     * A peer's message that no correct peer sends (the core refused it, naming why). The runtime
     * logs and drops it; the simulator, whose peers are all correct, fails the run.
     */
    void messageRejected(Message message, IllegalArgumentException reason);

    /** Called with every Ready before the driver acts on it; for observers (the simulator's safety checker). */
    default void readyStarted(Ready ready) {
    }
}
