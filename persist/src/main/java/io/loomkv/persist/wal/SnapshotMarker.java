package io.loomkv.persist.wal;

import io.loomkv.core.raft.proto.SnapshotMetadata;
import java.util.Objects;

/**
 * A snapshot recorded in the WAL. {@code resetLog} is true for a snapshot installed from the
 * leader (the log before it is discarded) and false for one taken locally (the log is kept).
 * {@code checkpoint} marks a compaction point without a snapshot file: the group's persistent
 * state machine made everything up to the index durable itself, so no file holds that state
 * (a local point; the log is kept).
 */
public record SnapshotMarker(SnapshotMetadata metadata, boolean resetLog, boolean checkpoint) {
    public SnapshotMarker {
        Objects.requireNonNull(metadata, "metadata");
        if (metadata.getIndex() < 1) {
            throw new IllegalArgumentException("snapshot marker needs an index >= 1, got " + metadata.getIndex());
        }
        if (resetLog && checkpoint) {
            throw new IllegalArgumentException("a checkpoint is taken locally and never resets the log");
        }
    }

    /** A marker of a snapshot file: installed from the leader ({@code resetLog}) or taken locally. */
    public SnapshotMarker(SnapshotMetadata metadata, boolean resetLog) {
        this(metadata, resetLog, false);
    }

    public long index() {
        return metadata.getIndex();
    }

    public long term() {
        return metadata.getTerm();
    }
}
