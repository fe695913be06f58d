package io.loomkv.persist.bitcask;

import java.nio.file.Path;
import java.util.Objects;

/**
 * How a BitCask store is laid out and bounded.
 *
 * @param directory where the data, hint and merge commit files live (created if missing)
 * @param maxFileSizeBytes the writer starts a new data file when the next group would pass this size
 *     (a merge cuts its output files at the same size)
 * @param maxKeyBytes the longest key accepted; keys live in memory (the key directory), so keep them short
 * @param maxValueBytes the longest value accepted
 * @param maxBatchOps the most puts and deletes one batch (one record group) may hold
 * @param maxBatchBytes the most bytes one record group may take on disk, headers included
 * @param maxMetadataBytes the longest metadata blob a batch may carry
 * @param maxOpenViews the most point-in-time views open at once (each may hold a before-image of
 *     every key written while it is open, see {@link BitcaskView})
 * @param channelOpener opens the writer's channels; a seam for tests that inject I/O failures
 */
public record BitcaskOptions(Path directory, long maxFileSizeBytes, int maxKeyBytes, int maxValueBytes, int maxBatchOps,
                             int maxBatchBytes, int maxMetadataBytes, int maxOpenViews, WriteChannelOpener channelOpener) {
    public static final long DEFAULT_MAX_FILE_SIZE_BYTES = 256L << 20;
    /** Offsets and sizes are checked against this; it keeps every record offset far from overflow. */
    public static final long MAX_FILE_SIZE_BYTES = 1L << 40;
    /** Hard ceiling of a key, whatever the options say (a key directory of huge keys is no BitCask). */
    public static final int MAX_KEY_BYTES = 64 * 1024;

    public BitcaskOptions {
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(channelOpener, "channelOpener");
        if (maxFileSizeBytes < 64 * 1024 || maxFileSizeBytes > MAX_FILE_SIZE_BYTES) {
            throw new IllegalArgumentException("maxFileSizeBytes must be in 64 KiB..1 TiB, got " + maxFileSizeBytes);
        }
        if (maxKeyBytes < 1 || maxKeyBytes > MAX_KEY_BYTES) {
            throw new IllegalArgumentException("maxKeyBytes must be in 1.." + MAX_KEY_BYTES + ", got " + maxKeyBytes);
        }
        if (maxValueBytes < 0 || maxValueBytes > (1 << 30)) {
            throw new IllegalArgumentException("maxValueBytes must be in 0..1 GiB, got " + maxValueBytes);
        }
        if (maxBatchOps < 1 || maxBatchOps > 1_000_000) {
            throw new IllegalArgumentException("maxBatchOps must be in 1..1000000, got " + maxBatchOps);
        }
        if (maxMetadataBytes < 0 || maxMetadataBytes > (1 << 20)) {
            throw new IllegalArgumentException("maxMetadataBytes must be in 0..1 MiB, got " + maxMetadataBytes);
        }
        long largestGroup = (long) RecordFormat.GROUP_HEADER_BYTES + maxMetadataBytes
                + RecordFormat.recordBytes(maxKeyBytes, maxValueBytes);
        if (maxBatchBytes < largestGroup || maxBatchBytes > maxFileSizeBytes) {
            throw new IllegalArgumentException("maxBatchBytes must hold one group with the largest key, value and metadata ("
                    + largestGroup + " bytes) and fit in one file (" + maxFileSizeBytes + "), got " + maxBatchBytes);
        }
        if (maxOpenViews < 1 || maxOpenViews > 64) {
            throw new IllegalArgumentException("maxOpenViews must be in 1..64, got " + maxOpenViews);
        }
    }

    /** 256 MiB files, keys up to 16 KiB, values up to 8 MiB, batches of up to 100,000 ops and 64 MiB, 8 views. */
    public static BitcaskOptions defaults(Path directory) {
        return new BitcaskOptions(directory, DEFAULT_MAX_FILE_SIZE_BYTES, 16 * 1024, 8 << 20, 100_000, 64 << 20, 64 * 1024, 8,
                WriteChannelOpener.DEFAULT);
    }

    public BitcaskOptions withMaxFileSizeBytes(long bytes) {
        return new BitcaskOptions(directory, bytes, maxKeyBytes, maxValueBytes, maxBatchOps, (int) Math.min(maxBatchBytes, bytes),
                maxMetadataBytes, maxOpenViews, channelOpener);
    }

    public BitcaskOptions withMaxValueBytes(int bytes) {
        return new BitcaskOptions(directory, maxFileSizeBytes, maxKeyBytes, bytes, maxBatchOps, maxBatchBytes, maxMetadataBytes,
                maxOpenViews, channelOpener);
    }

    public BitcaskOptions withMaxKeyBytes(int bytes) {
        return new BitcaskOptions(directory, maxFileSizeBytes, bytes, maxValueBytes, maxBatchOps, maxBatchBytes, maxMetadataBytes,
                maxOpenViews, channelOpener);
    }

    public BitcaskOptions withMaxBatchOps(int ops) {
        return new BitcaskOptions(directory, maxFileSizeBytes, maxKeyBytes, maxValueBytes, ops, maxBatchBytes, maxMetadataBytes,
                maxOpenViews, channelOpener);
    }

    public BitcaskOptions withMaxBatchBytes(int bytes) {
        return new BitcaskOptions(directory, maxFileSizeBytes, maxKeyBytes, maxValueBytes, maxBatchOps, bytes, maxMetadataBytes,
                maxOpenViews, channelOpener);
    }

    public BitcaskOptions withMaxOpenViews(int views) {
        return new BitcaskOptions(directory, maxFileSizeBytes, maxKeyBytes, maxValueBytes, maxBatchOps, maxBatchBytes, maxMetadataBytes,
                views, channelOpener);
    }

    BitcaskOptions withChannelOpener(WriteChannelOpener opener) {
        return new BitcaskOptions(directory, maxFileSizeBytes, maxKeyBytes, maxValueBytes, maxBatchOps, maxBatchBytes, maxMetadataBytes,
                maxOpenViews, opener);
    }
}
