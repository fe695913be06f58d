package io.loomkv.persist.wal;

import java.nio.file.Path;
import java.util.Objects;

/**
 * How a WAL is laid out and bounded.
 *
 * @param directory where the segments live (created if missing)
 * @param segmentSizeBytes size each segment is preallocated to; the writer cuts a new one when a record would not fit
 * @param maxBatchBytes size of the writer's reusable buffer: the most it writes with one write call
 * @param maxAppendBytes the most one append (all its records together) may encode to
 * @param queueCapacity the most appends waiting for the writer thread; appenders block beyond it
 * @param maxSyncDelayMicros how long the syncer may hold a force back to let appenders whose
 *     records the previous force just acknowledged come back and join it (like PostgreSQL's
 *     {@code commit_delay}); 0 disables it. See {@link WalWriter}.
 * @param fsync whether appends are forced to the device (fdatasync) before they are reported
 *     durable. With {@code false} the writer still writes and orders every record, and reports an
 *     append "durable" once its write has reached the operating system (the page cache): it then
 *     survives a crash of this process, but NOT a power loss or kernel crash, which may lose any
 *     suffix of recent appends (recovery still finds a consistent prefix: torn records at the tail
 *     are truncated as usual). Segment creation and recovery still fsync (rare, off the hot path).
 * @param virtualWriter whether the writer runs on a virtual thread rather than a platform thread.
 *     Worth it when the appenders are many virtual threads (each waits for its own append): the
 *     writer then wakes them and is woken by them through its carriers' queues, without a futex
 *     call or an OS context switch in between, and it yields rather than parks while they come
 *     back (see {@link WalWriter}). The cost: each force() makes the virtual-thread scheduler
 *     compensate for the blocked carrier, and the writer queues behind every other runnable
 *     virtual thread. It relies on that compensation: with it disabled (one carrier and
 *     {@code jdk.virtualThreadScheduler.minRunnable=0}, or {@code maxPoolSize=1}) each force carried
 *     about one record in the bench here. Off by default: a node's Raft loop is one platform
 *     thread, and its writer should not wait behind request handlers.
 * @param maxRetainedSegments the number of segments the WAL should not exceed: beyond it,
 *     {@link Wal#pinningGroups()} names the groups whose old entries keep the oldest segments
 *     alive (the WAL never deletes what a group still needs; the store acts on the report)
 */
public record WalOptions(Path directory, long segmentSizeBytes, int maxBatchBytes, int maxAppendBytes, int queueCapacity,
                         int maxSyncDelayMicros, boolean fsync, boolean virtualWriter, int maxRetainedSegments) {
    public static final long DEFAULT_SEGMENT_SIZE_BYTES = 64L << 20;
    public static final long MAX_SEGMENT_SIZE_BYTES = 1L << 30;

    public WalOptions {
        Objects.requireNonNull(directory, "directory");
        if (segmentSizeBytes < 64 * 1024 || segmentSizeBytes > MAX_SEGMENT_SIZE_BYTES || segmentSizeBytes % WalRecordCodec.ALIGNMENT_BYTES != 0) {
            throw new IllegalArgumentException("segmentSizeBytes must be a multiple of 8 in 64 KiB..1 GiB, got " + segmentSizeBytes);
        }
        if (maxBatchBytes < 4096) {
            throw new IllegalArgumentException("maxBatchBytes must be >= 4096, got " + maxBatchBytes);
        }
        // A segment must hold its header records plus the largest append, so that cutting always makes room.
        if (maxAppendBytes < 256 || maxAppendBytes > segmentSizeBytes / 2) {
            throw new IllegalArgumentException("maxAppendBytes must be in 256..segmentSizeBytes/2 (" + segmentSizeBytes / 2 + "), got " + maxAppendBytes);
        }
        if (queueCapacity < 1 || queueCapacity > 1 << 20) {
            throw new IllegalArgumentException("queueCapacity must be in 1..2^20, got " + queueCapacity);
        }
        if (maxSyncDelayMicros < 0 || maxSyncDelayMicros > 10_000) {
            throw new IllegalArgumentException("maxSyncDelayMicros must be in 0..10000, got " + maxSyncDelayMicros);
        }
        if (maxRetainedSegments < 1 || maxRetainedSegments > 1_000_000) {
            throw new IllegalArgumentException("maxRetainedSegments must be in 1..1000000, got " + maxRetainedSegments);
        }
    }

    /**
     * Segments beyond which the oldest are reported: 8, 512 MiB with the default segment size. A
     * restart reads every retained segment, so this bounds the WAL's share of restart time; a busy
     * group needs about two snapshot thresholds of log (64 MiB at most each), so the bound is met
     * by freeing slow groups (with 32, a store of the larger-than-memory run kept 27, 1.7 GB).
     */
    public static final int DEFAULT_MAX_RETAINED_SEGMENTS = 8;

    /**
     * Defaults: 64 MiB segments, 1 MiB write batches, appends up to 16 MiB, 8192 queued appends, sync delay up to 100 us,
     * fsync on, a platform writer thread, pinning reported beyond 32 segments.
     */
    public static WalOptions defaults(Path directory) {
        return new WalOptions(directory, DEFAULT_SEGMENT_SIZE_BYTES, 1 << 20, 16 << 20, 8192, 100, true, false, DEFAULT_MAX_RETAINED_SEGMENTS);
    }

    public WalOptions withSegmentSizeBytes(long bytes) {
        return new WalOptions(directory, bytes, maxBatchBytes, (int) Math.min(maxAppendBytes, bytes / 2), queueCapacity, maxSyncDelayMicros, fsync,
                virtualWriter, maxRetainedSegments);
    }

    public WalOptions withMaxSyncDelayMicros(int micros) {
        return new WalOptions(directory, segmentSizeBytes, maxBatchBytes, maxAppendBytes, queueCapacity, micros, fsync, virtualWriter,
                maxRetainedSegments);
    }

    /** Turns forcing appends to the device on or off; see the {@code fsync} parameter for what "off" still guarantees. */
    public WalOptions withFsync(boolean enabled) {
        return new WalOptions(directory, segmentSizeBytes, maxBatchBytes, maxAppendBytes, queueCapacity, maxSyncDelayMicros, enabled, virtualWriter,
                maxRetainedSegments);
    }

    /** Runs the writer on a virtual or a platform thread; see the {@code virtualWriter} parameter for when each fits. */
    public WalOptions withVirtualWriter(boolean virtual) {
        return new WalOptions(directory, segmentSizeBytes, maxBatchBytes, maxAppendBytes, queueCapacity, maxSyncDelayMicros, fsync, virtual,
                maxRetainedSegments);
    }

    /** Sets the segment count beyond which {@link Wal#pinningGroups()} reports the groups holding the oldest ones. */
    public WalOptions withMaxRetainedSegments(int segments) {
        return new WalOptions(directory, segmentSizeBytes, maxBatchBytes, maxAppendBytes, queueCapacity, maxSyncDelayMicros, fsync, virtualWriter,
                segments);
    }
}
