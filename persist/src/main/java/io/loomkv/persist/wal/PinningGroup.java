package io.loomkv.persist.wal;

/**
 * A group that keeps old segments alive beyond the WAL's bound ({@link WalOptions#maxRetainedSegments()}).
 * The store frees them by having the group take a snapshot at or above {@code releaseIndexNeeded}
 * and release its log up to there, or, when it cannot (those entries are not applied yet), by
 * rewriting the group's log ({@link Wal#rewrite}). {@link Wal#pinningGroups()} lists them in the
 * order of the oldest segment each holds: segments go oldest first, so the first ones block most.
 *
 * @param groupId the group
 * @param releaseIndexNeeded the group must release its log up to this index to let those segments go
 * @param pinnedSegments how many of the segments beyond the bound this group holds
 */
public record PinningGroup(long groupId, long releaseIndexNeeded, int pinnedSegments) {
    public PinningGroup {
        if (groupId < 0 || releaseIndexNeeded < 1 || pinnedSegments < 1) {
            throw new IllegalArgumentException("bad pinning group: id " + groupId + ", release index " + releaseIndexNeeded
                    + ", pinned segments " + pinnedSegments);
        }
    }
}
