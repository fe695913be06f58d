package io.loomkv.persist.wal;

import io.loomkv.core.raft.proto.HardState;
import java.util.ArrayList;
import java.util.List;

/**
 * One Raft group's bookkeeping in the WAL: one object per group incarnation (a group dropped and
 * created again gets a new one), shared by the appending side and the writer thread so that
 * neither looks the group up per record: an append carries its group.
 *
 * <p>Each field belongs to one side. The appending side's fields are guarded by {@link Wal}'s
 * append lock; the writer's are touched only by the writer thread (recovery fills them before the
 * writer starts; {@code Thread.start} publishes them). Small on purpose: a store may hold a
 * thousand idle groups.
 */
final class WalGroup {
    /** Snapshot markers of a group rewritten at the head of every segment: the newest and one fallback. */
    static final int KEPT_MARKERS = 2;

    final long id;

    // ---- appending side (guarded by Wal's append lock) ----
    /** The group's last entry index, counting appends not yet durable. */
    long lastIndex;
    /** No entry at or below this index may be appended: the log was reset or rewritten from here, or recovery found it so. */
    long logStartIndex;
    /** The largest snapshot marker record of this group so far, to bound what its segment header records take. */
    int largestMarkerRecordBytes;

    // ---- writer thread ----
    /** The group's last index as the writer has written it; what a segment header records. */
    long lastIndexWritten;
    /** The last hard state written; null until one was. */
    HardState hardState;
    /** The newest snapshot markers written, oldest first, at most {@link #KEPT_MARKERS}. */
    private SnapshotMarker olderMarker;
    private SnapshotMarker newerMarker;
    /** Entries at or below this index are covered by a snapshot and no longer needed in the WAL. */
    long releasedIndex;
    /** Sequence of the segment in which the writer last recorded this group's entries (-1: none). */
    long entriesNotedInSegment = -1;
    /** A durable rewrite in this segment made every older segment's records of the group unnecessary (-1: none). */
    long rewrittenInSegment = -1;
    /** The group's drop record is durable: none of its records pins a segment any more. */
    boolean dropped;
    /** The writer lists the group among those whose state heads every new segment. */
    boolean listed;

    WalGroup(long id) {
        if (id < 0) {
            throw new IllegalArgumentException("group id must be >= 0, got " + id);
        }
        this.id = id;
    }

    /** Writer: remembers a marker for the next segment headers (a marker seen again moves to the newest place). */
    void rememberMarker(SnapshotMarker marker) {
        if (newerMarker == null || !sameSnapshot(newerMarker, marker)) {
            // Also right when the older one is the same snapshot: it moves up and the older place gets the newer one.
            olderMarker = newerMarker;
        }
        newerMarker = marker;
    }

    /** Writer: the markers to rewrite at the head of a segment, oldest first. */
    List<SnapshotMarker> recentMarkers() {
        List<SnapshotMarker> markers = new ArrayList<>(KEPT_MARKERS);
        if (olderMarker != null) {
            markers.add(olderMarker);
        }
        if (newerMarker != null) {
            markers.add(newerMarker);
        }
        return markers;
    }

    private static boolean sameSnapshot(SnapshotMarker a, SnapshotMarker b) {
        return a.index() == b.index() && a.term() == b.term();
    }

    /** Writer: whether a pin of this group, taken in segment {@code segmentSequence} up to {@code neededIndex}, still holds that segment. */
    boolean pins(long segmentSequence, long neededIndex) {
        return !dropped && segmentSequence >= rewrittenInSegment && neededIndex > releasedIndex;
    }

    @Override
    public String toString() {
        return "group " + id;
    }
}
