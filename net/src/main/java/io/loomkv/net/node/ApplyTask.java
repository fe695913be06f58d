package io.loomkv.net.node;

import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import java.util.List;
import java.util.Map;

/** What the Raft loop hands to the apply thread through the SPSC queue, in log order. */
sealed interface ApplyTask {
    /**
     * Committed entries to apply in order.
     *
     * @param confStates for each conf-change entry (by index), the membership after it
     */
    record Committed(List<Entry> entries, Map<Long, ConfState> confStates) implements ApplyTask {
    }

    /** Reads to serve once the applied index reaches {@code index} (0: at once). */
    record Reads(long index, List<LoopInput.Read> reads) implements ApplyTask {
    }

    /** A snapshot from the leader was installed: replace the state machine with it. */
    record Restore(SnapshotMetadata metadata) implements ApplyTask {
    }
}
