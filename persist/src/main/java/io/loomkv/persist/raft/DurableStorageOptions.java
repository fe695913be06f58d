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
 * @param fsync whether WAL appends are forced to the device before Raft learns they are durable.
 *     {@code false} (see {@link io.loomkv.persist.wal.WalOptions#fsync()}) reports them durable once
 *     written to the OS: the state survives a crash of the process but not a power loss or kernel
 *     crash, after which a node may have forgotten votes and entries it acknowledged (only safe when
 *     losing a whole cluster's recent writes to a power cut is acceptable). Snapshot files, segment
 *     creation and directory renames are still fsynced: they are rare and off the append path.
 */
public record DurableStorageOptions(Path directory, long segmentSizeBytes, long maxSnapshotBytes, int keepSnapshots, boolean fsync) {
    public DurableStorageOptions {
        Objects.requireNonNull(directory, "directory");
        if (maxSnapshotBytes < 1) {
            throw new IllegalArgumentException("maxSnapshotBytes must be positive, got " + maxSnapshotBytes);
        }
        if (keepSnapshots < 2 || keepSnapshots > 100) {
            throw new IllegalArgumentException("keepSnapshots must be in 2..100, got " + keepSnapshots);
        }
    }

    /** 64 MiB segments, snapshots up to 64 GiB, two snapshots kept, fsync on. */
    public static DurableStorageOptions defaults(Path directory) {
        return new DurableStorageOptions(directory, 64L << 20, 64L << 30, 2, true);
    }

    public DurableStorageOptions withSegmentSizeBytes(long bytes) {
        return new DurableStorageOptions(directory, bytes, maxSnapshotBytes, keepSnapshots, fsync);
    }

    public DurableStorageOptions withFsync(boolean enabled) {
        return new DurableStorageOptions(directory, segmentSizeBytes, maxSnapshotBytes, keepSnapshots, enabled);
    }
}
