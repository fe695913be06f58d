package io.loomkv.core.raft;

import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.HardState;
import io.loomkv.core.raft.proto.Message;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import java.util.List;

/**
 * Everything the runtime must do for the node, in this order:
 *
 * <ol>
 *   <li>send {@link #messagesBeforePersist()} (the leader's appends, heartbeats, snapshot
 *       chunks: Raft thesis 10.2.1 lets the leader send them before its own write);
 *   <li>stage {@link #snapshotChunks()} in order, and install {@link #snapshot()} if set (its
 *       data is the staged chunks) right after its last chunk: a new transfer's first chunk may
 *       follow it in the same Ready; then persist {@link #entries()} and {@link #hardState()} (if
 *       set) durably;
 *   <li>send {@link #messagesAfterPersist()} (votes, append and snapshot acknowledgements, which
 *       promise durable state);
 *   <li>apply {@link #committedEntries()} in order, and answer {@link #readStates()} once the
 *       applied index reaches theirs;
 *   <li>call {@link RaftNode#advance()}.
 * </ol>
 *
 * @param softState the new leader/role if it changed, else null
 * @param hardState the new term/vote/commit if it changed, else null
 * @param entries entries to append to durable storage (replacing any conflicting suffix)
 * @param snapshot a snapshot to install, else null
 * @param snapshotChunks received snapshot chunks to stage
 * @param committedEntries entries to apply, bounded in bytes per Ready
 * @param messagesBeforePersist messages that may be sent before the persist finishes
 * @param messagesAfterPersist messages that must wait until the persist finished
 * @param readStates reads that became safe
 * @param mustSync whether the persist must be fsync'ed (term, vote or entries changed)
 */
public record Ready(
        SoftState softState,
        HardState hardState,
        List<Entry> entries,
        SnapshotMetadata snapshot,
        List<SnapshotChunk> snapshotChunks,
        List<Entry> committedEntries,
        List<Message> messagesBeforePersist,
        List<Message> messagesAfterPersist,
        List<ReadState> readStates,
        boolean mustSync) {

    public Ready {
        entries = List.copyOf(entries);
        snapshotChunks = List.copyOf(snapshotChunks);
        committedEntries = List.copyOf(committedEntries);
        messagesBeforePersist = List.copyOf(messagesBeforePersist);
        messagesAfterPersist = List.copyOf(messagesAfterPersist);
        readStates = List.copyOf(readStates);
    }

    /** Whether there is anything at all to do. */
    public boolean isEmpty() {
        return softState == null && hardState == null && entries.isEmpty() && snapshot == null
                && snapshotChunks.isEmpty() && committedEntries.isEmpty() && messagesBeforePersist.isEmpty()
                && messagesAfterPersist.isEmpty() && readStates.isEmpty();
    }
}
