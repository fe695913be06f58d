package io.loomkv.persist.wal;

import io.loomkv.core.raft.proto.SnapshotMetadata;
import java.util.Objects;

/**
 * A snapshot recorded in the WAL. {@code resetLog} is true for a snapshot installed from the
 * leader (the log before it is discarded) and false for one taken locally (the log is kept).
 */
public record SnapshotMarker(SnapshotMetadata metadata, boolean resetLog) {
    public SnapshotMarker {
        Objects.requireNonNull(metadata, "metadata");
        if (metadata.getIndex() < 1) {
            throw new IllegalArgumentException("snapshot marker needs an index >= 1, got " + metadata.getIndex());
        }
    }

    public long index() {
        return metadata.getIndex();
    }

    public long term() {
        return metadata.getTerm();
    }
}
