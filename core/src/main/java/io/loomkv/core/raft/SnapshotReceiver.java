package io.loomkv.core.raft;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.proto.SnapshotMetadata;

/**
 * The follower's side of a chunked snapshot transfer: it accepts chunks of one snapshot only in
 * order, with contiguous offsets, within the size limits, and says which offset it expects next.
 * A chunk at offset 0 (re)starts a transfer. The state is volatile: after a crash the leader
 * starts over from offset 0, as the runtime's staged chunks are gone too.
 */
final class SnapshotReceiver {
    /** What became of a received chunk. */
    enum Outcome {
        /** In order: stage it; more chunks follow. */
        ACCEPTED,
        /** In order and the last one: stage it, then install the snapshot. */
        COMPLETE,
        /** A duplicate, a gap, or a chunk of another snapshot: ignored, the expected offset is answered. */
        OUT_OF_ORDER,
        /** Breaks a limit or contradicts its own metadata: the transfer is refused. */
        INVALID
    }

    /** The outcome, the offset expected next, and (if accepted) the chunk to stage. */
    record Result(Outcome outcome, long nextOffsetBytes, SnapshotChunk chunk) {
    }

    private final long maxSnapshotSizeBytes;
    private final int maxChunkBytes;
    private SnapshotMetadata receiving;
    private long nextOffsetBytes;

    SnapshotReceiver(long maxSnapshotSizeBytes, int maxChunkBytes) {
        this.maxSnapshotSizeBytes = maxSnapshotSizeBytes;
        this.maxChunkBytes = maxChunkBytes;
    }

    /** Forgets any transfer in progress. */
    void reset() {
        receiving = null;
        nextOffsetBytes = 0;
    }

    Result receive(SnapshotMetadata metadata, long offsetBytes, ByteString data, boolean last) {
        if (metadata.getSizeBytes() > maxSnapshotSizeBytes || data.size() > maxChunkBytes || offsetBytes < 0
                || offsetBytes + data.size() > metadata.getSizeBytes()
                || (last && offsetBytes + data.size() != metadata.getSizeBytes())) {
            reset();
            return new Result(Outcome.INVALID, 0, null);
        }
        if (offsetBytes == 0) {
            receiving = metadata;
            nextOffsetBytes = 0;
        }
        if (receiving == null || !receiving.equals(metadata) || offsetBytes != nextOffsetBytes) {
            long expected = receiving != null && receiving.equals(metadata) ? nextOffsetBytes : 0;
            return new Result(Outcome.OUT_OF_ORDER, expected, null);
        }
        SnapshotChunk chunk = new SnapshotChunk(metadata, offsetBytes, data, last);
        nextOffsetBytes += data.size();
        if (!last) {
            return new Result(Outcome.ACCEPTED, nextOffsetBytes, chunk);
        }
        reset();
        return new Result(Outcome.COMPLETE, metadata.getSizeBytes(), chunk);
    }
}
