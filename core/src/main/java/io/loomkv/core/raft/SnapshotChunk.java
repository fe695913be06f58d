package io.loomkv.core.raft;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.proto.SnapshotMetadata;

/**
 * A piece of a snapshot received from the leader, for the runtime to stage. Chunks of one
 * snapshot arrive in order with contiguous offsets; a chunk at offset 0 starts a new snapshot
 * (discard anything staged before). When the last chunk has arrived, the same Ready carries the
 * snapshot metadata to install from the staged data.
 */
public record SnapshotChunk(SnapshotMetadata metadata, long offsetBytes, ByteString data, boolean last) {
    public SnapshotChunk {
        if (metadata == null || data == null) {
            throw new IllegalArgumentException("metadata and data must be non-null");
        }
        if (offsetBytes < 0) {
            throw new IllegalArgumentException("negative chunk offset " + offsetBytes);
        }
    }
}
