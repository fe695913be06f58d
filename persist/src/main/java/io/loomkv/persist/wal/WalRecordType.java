package io.loomkv.persist.wal;

/** The kinds of WAL record. Codes are on disk: never renumber; 0 is reserved for "no record" (preallocated zeros). */
public enum WalRecordType {
    /** First record of every segment: magic, version, sequence and first index, checked against the file name. */
    SEGMENT_HEADER(1),
    /** A Raft log entry ({@code Entry} protobuf). */
    ENTRY(2),
    /** The Raft hard state ({@code HardState} protobuf). */
    HARD_STATE(3),
    /** A snapshot was saved locally ({@code SnapshotMetadata}); the log is kept as it is. */
    SNAPSHOT_COMPACT(4),
    /** A snapshot was installed from the leader ({@code SnapshotMetadata}); every entry before it is discarded. */
    SNAPSHOT_RESET(5);

    private final int code;

    WalRecordType(int code) {
        this.code = code;
    }

    public int code() {
        return code;
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
