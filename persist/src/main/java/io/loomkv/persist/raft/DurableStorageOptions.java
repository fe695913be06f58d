package io.loomkv.persist.raft;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where and how a node keeps its Raft state.
 *
 * @param directory holds {@code wal/} and {@code snap/}
 * @param segmentSizeBytes WAL segment size
 * @param maxSnapshotBytes the largest snapshot file accepted from a leader
 * @param keepSnapshots snapshot files kept (at least 2, so a damaged newest one has a fallback)
 */
public record DurableStorageOptions(Path directory, long segmentSizeBytes, long maxSnapshotBytes, int keepSnapshots) {
    public DurableStorageOptions {
        Objects.requireNonNull(directory, "directory");
        if (maxSnapshotBytes < 1) {
            throw new IllegalArgumentException("maxSnapshotBytes must be positive, got " + maxSnapshotBytes);
        }
        if (keepSnapshots < 2 || keepSnapshots > 100) {
            throw new IllegalArgumentException("keepSnapshots must be in 2..100, got " + keepSnapshots);
        }
    }

    /** 64 MiB segments, snapshots up to 64 GiB, two snapshots kept. */
    public static DurableStorageOptions defaults(Path directory) {
        return new DurableStorageOptions(directory, 64L << 20, 64L << 30, 2);
    }

    public DurableStorageOptions withSegmentSizeBytes(long bytes) {
        return new DurableStorageOptions(directory, bytes, maxSnapshotBytes, keepSnapshots);
    }
}
