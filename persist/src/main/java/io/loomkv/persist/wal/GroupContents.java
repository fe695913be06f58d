package io.loomkv.persist.wal;

import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.HardState;
import java.util.List;
import java.util.Objects;

/**
 * What recovery found in the WAL for one group: its log rebuilt (conflicting suffixes replaced,
 * resets and rewrites applied), not a list of records to replay.
 *
 * @param groupId the group
 * @param hardState the last hard state written (default instance when none)
 * @param markers every distinct snapshot marker still in the WAL, oldest first
 * @param logStartIndex the WAL holds the group's entries above this index only (0 for a log that
 *     was never reset, rewritten or released; otherwise a snapshot must cover it)
 * @param entries the group's entries above both {@code logStartIndex} and the index the caller
 *     asked to keep above, consecutive, ending at {@code lastIndex}
 * @param lastIndex the index of the group's last entry
 */
public record GroupContents(long groupId, HardState hardState, List<SnapshotMarker> markers, long logStartIndex, List<Entry> entries,
                            long lastIndex) {
    public GroupContents {
        Objects.requireNonNull(hardState, "hardState");
        markers = List.copyOf(markers);
        entries = List.copyOf(entries);
        if (groupId < 0 || logStartIndex < 0 || lastIndex < logStartIndex) {
            throw new IllegalArgumentException("group " + groupId + ": log start " + logStartIndex + ", last index " + lastIndex);
        }
        for (int i = 0; i < entries.size(); i++) {
            long expected = lastIndex - entries.size() + 1 + i;
            if (entries.get(i).getIndex() != expected || expected <= logStartIndex) {
                throw new IllegalArgumentException("group " + groupId + ": entry at position " + i + " has index " + entries.get(i).getIndex()
                        + ", expected " + expected + " (log start " + logStartIndex + ", last index " + lastIndex + ")");
            }
        }
    }
}
