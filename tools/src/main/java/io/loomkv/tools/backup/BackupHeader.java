package io.loomkv.tools.backup;

import io.loomkv.core.shard.proto.Layout;
import java.util.List;

/**
 * What a backup says about the cluster it came from, before the groups' sections.
 *
 * @param clusterId the backed-up cluster's id (a restore must use another)
 * @param createdAtMillis when the backup started (wall clock, epoch millis)
 * @param layout the slot layout: which group owns which slots and which stores host it
 * @param controllerStores the stores that hosted group 0, the shard controller
 * @param groupCount how many group sections follow (every data group and group 0)
 */
public record BackupHeader(String clusterId, long createdAtMillis, Layout layout, List<Long> controllerStores, int groupCount) {
    public BackupHeader {
        if (clusterId == null || clusterId.isEmpty()) {
            throw new IllegalArgumentException("a backup needs the cluster id");
        }
        if (groupCount < 1 || groupCount > BackupFormat.MAX_GROUPS) {
            throw new IllegalArgumentException("group count " + groupCount + " is outside 1.." + BackupFormat.MAX_GROUPS);
        }
        controllerStores = List.copyOf(controllerStores);
    }
}
