package io.loomkv.persist.wal;

/**
 * The kinds of WAL record. Codes are on disk: never renumber; 0 is reserved for "no record"
 * (preallocated zeros).
 *
 * <p>Every type but the segment header belongs to one Raft group: its payload starts with the
 * group id (8 bytes, little-endian), then {@link #fixedLongs()} more little-endian longs, then a
 * protobuf message (see {@link WalRecordCodec}).
 */
public enum WalRecordType {
    /** First record of every segment: magic, version, sequence, first record number, group count; checked against the file name. */
    SEGMENT_HEADER(1, -1),
    /** A Raft log entry ({@code Entry}); at an index already present it replaces that entry and every later one. */
    ENTRY(2, 0),
    /** The group's Raft hard state ({@code HardState}). */
    HARD_STATE(3, 0),
    /** A snapshot was saved locally ({@code SnapshotMetadata}); the group's log is kept as it is. */
    SNAPSHOT_COMPACT(4, 0),
    /** A snapshot was installed from the leader ({@code SnapshotMetadata}); the group's log before it is discarded. */
    SNAPSHOT_RESET(5, 0),
    /**
     * Only in a segment header, once per live group: the group's last index when the segment was
     * cut, then its hard state ({@code HardState}). What lets older segments go without losing it.
     */
    GROUP_STATE(6, 1),
    /** The group's replica left this store: recovery forgets everything written for it before (no message). */
    GROUP_DROPPED(7, 0),
    /**
     * An entry written again by a rewrite ({@code Entry}). It only counts once the
     * {@link #REWRITE_END} that follows it is read: a rewrite cut short by a crash changes nothing.
     */
    REWRITTEN_ENTRY(8, 0),
    /**
     * Ends a rewrite: the index before the first rewritten entry and the group's last index, then
     * its hard state ({@code HardState}). From here the group's log is the rewritten entries: no
     * older record of the group is needed any more.
     */
    REWRITE_END(9, 2),
    /**
     * The group's log was compacted at a point with no snapshot file ({@code SnapshotMetadata}):
     * its persistent state machine made everything up to that index durable itself. Recovery may
     * start the group there, trusting the state machine to be at least that far; the log is kept.
     */
    SNAPSHOT_CHECKPOINT(10, 0);

    private final int code;
    private final int fixedLongs;

    WalRecordType(int code, int fixedLongs) {
        this.code = code;
        this.fixedLongs = fixedLongs;
    }

    public int code() {
        return code;
    }

    /** True for the records that belong to a group (every type but the segment header). */
    public boolean grouped() {
        return fixedLongs >= 0;
    }

    /** How many little-endian longs follow the group id before the message (-1 for the segment header). */
    public int fixedLongs() {
        return fixedLongs;
    }

    /** The type for an on-disk code, or null when the code is unknown (a damaged or foreign record). */
    public static WalRecordType fromCode(int code) {
        for (WalRecordType type : values()) {
            if (type.code == code) {
                return type;
            }
        }
        return null;
    }
}
