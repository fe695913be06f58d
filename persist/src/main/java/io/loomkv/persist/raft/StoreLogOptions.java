package io.loomkv.persist.raft;

import io.loomkv.persist.wal.WalOptions;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Where and how a store keeps the Raft state of all its groups.
 *
 * @param directory holds {@code wal/} (the WAL all groups share) and {@code snap/<groupId>/}
 * @param segmentSizeBytes WAL segment size
 * @param maxSnapshotBytes the largest snapshot file accepted from a leader
 * @param keepSnapshots snapshot files kept per group (at least 2, so a damaged newest one has a fallback)
 * @param fsync whether WAL appends are forced to the device before Raft learns they are durable.
 *     {@code false} (see {@link io.loomkv.persist.wal.WalOptions#fsync()}) reports them durable once
 *     written to the OS: the state survives a crash of the process but not a power loss or kernel
 *     crash, after which a node may have forgotten votes and entries it acknowledged (only safe when
 *     losing a whole cluster's recent writes to a power cut is acceptable). Snapshot files, segment
 *     creation and directory renames are still fsynced: they are rare and off the append path.
 * @param maxRetainedSegments WAL segments beyond which {@link StoreLog#pinningGroups()} names the
 *     groups that hold the oldest ones (see {@link WalOptions#maxRetainedSegments()})
 */
public record StoreLogOptions(Path directory, long segmentSizeBytes, long maxSnapshotBytes, int keepSnapshots, boolean fsync,
                              int maxRetainedSegments) {
    public StoreLogOptions {
        Objects.requireNonNull(directory, "directory");
        if (maxSnapshotBytes < 1) {
            throw new IllegalArgumentException("maxSnapshotBytes must be positive, got " + maxSnapshotBytes);
        }
        if (keepSnapshots < 2 || keepSnapshots > 100) {
            throw new IllegalArgumentException("keepSnapshots must be in 2..100, got " + keepSnapshots);
        }
        // The WAL checks the rest; fail here, before anything is opened.
        walOptions(directory.resolve("wal"), segmentSizeBytes, fsync, maxRetainedSegments);
    }

    /** 64 MiB segments, snapshots up to 64 GiB, two snapshots kept per group, fsync on, pinning reported beyond 32 segments. */
    public static StoreLogOptions defaults(Path directory) {
        return new StoreLogOptions(directory, WalOptions.DEFAULT_SEGMENT_SIZE_BYTES, 64L << 30, 2, true, WalOptions.DEFAULT_MAX_RETAINED_SEGMENTS);
    }

    public StoreLogOptions withSegmentSizeBytes(long bytes) {
        return new StoreLogOptions(directory, bytes, maxSnapshotBytes, keepSnapshots, fsync, maxRetainedSegments);
    }

    public StoreLogOptions withFsync(boolean enabled) {
        return new StoreLogOptions(directory, segmentSizeBytes, maxSnapshotBytes, keepSnapshots, enabled, maxRetainedSegments);
    }

    public StoreLogOptions withMaxRetainedSegments(int segments) {
        return new StoreLogOptions(directory, segmentSizeBytes, maxSnapshotBytes, keepSnapshots, fsync, segments);
    }

    WalOptions walOptions() {
        return walOptions(directory.resolve("wal"), segmentSizeBytes, fsync, maxRetainedSegments);
    }

    private static WalOptions walOptions(Path walDirectory, long segmentSizeBytes, boolean fsync, int maxRetainedSegments) {
        return WalOptions.defaults(walDirectory).withSegmentSizeBytes(segmentSizeBytes).withFsync(fsync)
                .withMaxRetainedSegments(maxRetainedSegments);
    }
}
