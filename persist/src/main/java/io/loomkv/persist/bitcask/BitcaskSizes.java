package io.loomkv.persist.bitcask;

/**
 * Sizes for status and metrics.
 *
 * @param keyCount live keys (exact)
 * @param diskBytes bytes of every data and hint file the store still holds (retired files that an
 *     open view keeps are included)
 * @param liveRecordBytes bytes of the records the key directory points at; {@code diskBytes} minus
 *     this is roughly what a merge would reclaim
 * @param memoryBytesEstimate the key directory's heap: keys plus a per-entry overhead (see
 *     {@link KeyDir#ENTRY_OVERHEAD_BYTES}), and the before-images held by open views
 * @param fileCount data files (active, immutable and merged)
 * @param openViews views not closed yet
 */
public record BitcaskSizes(long keyCount, long diskBytes, long liveRecordBytes, long memoryBytesEstimate, int fileCount, int openViews) {
}
