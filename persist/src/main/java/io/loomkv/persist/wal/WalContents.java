package io.loomkv.persist.wal;

import io.loomkv.core.raft.proto.HardState;
import java.util.List;
import java.util.Objects;

/**
 * What recovery found in the WAL.
 *
 * @param items entries above the index the caller asked to keep, and every snapshot marker, in log order
 * @param hardState the last hard state written (default instance when none)
 * @param markers every snapshot marker still in the WAL, oldest first
 * @param lastIndex the index of the last entry in the log (after truncations and resets)
 */
public record WalContents(List<WalReplayItem> items, HardState hardState, List<SnapshotMarker> markers, long lastIndex) {
    public WalContents {
        items = List.copyOf(items);
        markers = List.copyOf(markers);
        Objects.requireNonNull(hardState, "hardState");
    }
}
