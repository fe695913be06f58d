package io.loomkv.tools.backup;

/**
 * One group of a backup as {@code snapshot status} shows it.
 *
 * @param snapshotBytes the group's snapshot file (compressed)
 * @param dataBytes its keys and values, uncompressed
 */
public record GroupSummary(long groupId, long appliedIndex, long keyCount, long sessionCount, long dataBytes, long snapshotBytes) {
}
