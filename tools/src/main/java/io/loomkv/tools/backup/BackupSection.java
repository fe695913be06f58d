package io.loomkv.tools.backup;

/**
 * One group's part of a backup: the group's snapshot file as its leader wrote it (a consistent
 * state of the group at {@code appliedIndex}), at {@code offsetBytes} in the backup.
 *
 * @param snapshotTerm the term of the snapshot's last entry in the old cluster (a restore uses its own)
 * @param lengthBytes the snapshot file's length
 */
public record BackupSection(long groupId, long appliedIndex, long snapshotTerm, long offsetBytes, long lengthBytes) {
}
