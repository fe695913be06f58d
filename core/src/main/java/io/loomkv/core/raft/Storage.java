package io.loomkv.core.raft;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import java.util.List;

/**
 * A read-only view of a node's durable Raft log and latest snapshot, for the Raft core.
 *
 * <p>The core never writes through this interface: writes reach storage through the runtime,
 * which persists what a {@code Ready} hands it and then calls {@code advance()}. So an
 * implementation only has to reflect what the runtime already made durable (plus, for the
 * in-memory test implementation, what it was told to hold).
 *
 * <p>Index conventions follow etcd: the snapshot covers indexes up to {@code firstIndex() - 1},
 * whose term stays available through {@link #term(long)}; entries exist for
 * {@code firstIndex() .. lastIndex()}. An empty log after a snapshot at index S has
 * {@code firstIndex() == S + 1} and {@code lastIndex() == S}.
 */
public interface Storage {

    /** The hard state and membership saved last, read once when a node starts. */
    InitialState initialState();

    /**
     * Entries in {@code [fromIndex, toIndexExclusive)}, stopping early once their encoded size
     * passes {@code maxSizeBytes}, but always at least one entry when the range is non-empty.
     *
     * @throws CompactedException if {@code fromIndex < firstIndex()}
     * @throws UnavailableException if {@code toIndexExclusive > lastIndex() + 1}
     */
    List<Entry> entries(long fromIndex, long toIndexExclusive, long maxSizeBytes);

    /**
     * The term of the entry at {@code index}, valid for {@code firstIndex() - 1 .. lastIndex()}.
     *
     * @throws CompactedException if {@code index < firstIndex() - 1}
     * @throws UnavailableException if {@code index > lastIndex()}
     */
    long term(long index);

    /** The index of the first entry still in the log (snapshot index + 1). */
    long firstIndex();

    /** The index of the last entry in the log (the snapshot index when the log is empty). */
    long lastIndex();

    /**
     * Metadata of the newest snapshot, the point the log starts from (its membership is the
     * node's as of that index); index 0 when there is none.
     */
    SnapshotMetadata snapshotMetadata();

    /**
     * The snapshot to send a follower that needs entries from before {@link #firstIndex()}: one
     * whose data can be read and that reaches at least {@code firstIndex() - 1}. By default the
     * newest. A storage may compact its log at points that have no data to send (a persistent
     * state machine holds the state itself, so writing a copy of it at every compaction would cost
     * as much as the data: etcd's "snapshot temporarily unavailable"); it then arranges for one
     * to be written and throws, and the leader asks again on a later heartbeat.
     *
     * @throws SnapshotTemporarilyUnavailableException when no such snapshot is ready yet
     */
    default SnapshotMetadata snapshotForTransfer() {
        return snapshotMetadata();
    }

    /**
     * Up to {@code maxSizeBytes} of a snapshot's data, starting at {@code offsetBytes}; an empty
     * result at the end. Snapshot data is read in bounded chunks so that neither the sender nor the
     * receiver ever holds a whole snapshot in one message.
     *
     * @throws SnapshotUnavailableException if {@code metadata} is no longer the snapshot
     *     {@link #snapshotForTransfer()} would give (a newer one replaced it)
     */
    ByteString readSnapshotChunk(SnapshotMetadata metadata, long offsetBytes, int maxSizeBytes);
}
