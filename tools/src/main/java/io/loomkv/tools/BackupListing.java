package io.loomkv.tools;

import io.loomkv.core.shard.SlotLayout;
import io.loomkv.tools.backup.BackupFile;
import io.loomkv.tools.backup.BackupHeader;
import io.loomkv.tools.backup.GroupSummary;
import java.io.PrintStream;
import java.time.Instant;
import java.util.List;
import java.util.StringJoiner;

/**
 * {@code snapshot status FILE}: what a backup holds, as a table (a summary line, then one line per
 * group: applied index, keys, sessions, data and snapshot bytes) or one JSON object with the same.
 * Only printed for a backup that checked out whole, so the checksum always says OK here.
 */
final class BackupListing {
    private static final String TEXT_FORMAT = "%-6s %-12s %-10s %-9s %-14s %s%n";

    private BackupListing() {
    }

    static void print(BackupFile backup, List<GroupSummary> groups, boolean json, PrintStream out) {
        BackupHeader header = backup.header();
        SlotLayout layout = SlotLayout.fromProto(header.layout());
        long keys = groups.stream().mapToLong(GroupSummary::keyCount).sum();
        String created = Instant.ofEpochMilli(header.createdAtMillis()).toString();
        if (json) {
            StringJoiner list = new StringJoiner(",", "[", "]");
            for (GroupSummary group : groups) {
                list.add("{\"group\":" + group.groupId() + ",\"applied_index\":" + group.appliedIndex() + ",\"keys\":"
                        + group.keyCount() + ",\"sessions\":" + group.sessionCount() + ",\"data_bytes\":" + group.dataBytes()
                        + ",\"snapshot_bytes\":" + group.snapshotBytes() + "}");
            }
            out.println("{\"file\":" + Json.quote(backup.path().toString()) + ",\"checksum_ok\":true,\"format_version\":1"
                    + ",\"cluster_id\":" + Json.quote(header.clusterId()) + ",\"created\":" + Json.quote(created)
                    + ",\"layout_version\":" + layout.version() + ",\"data_groups\":" + layout.groups().size()
                    + ",\"controller_stores\":" + header.controllerStores().toString().replace(" ", "")
                    + ",\"keys\":" + keys + ",\"bytes\":" + backup.lengthBytes() + ",\"groups\":" + list + "}");
            return;
        }
        out.println("backup " + backup.path() + ": checksum OK, " + backup.lengthBytes() + " bytes, format 1");
        out.println("cluster '" + header.clusterId() + "', created " + created + ", layout " + layout.version() + " with "
                + layout.groups().size() + " data groups, controller on stores " + CompactRanges.ids(header.controllerStores())
                + ", " + keys + " keys");
        out.printf(TEXT_FORMAT, "GROUP", "APPLIED", "KEYS", "SESSIONS", "DATA BYTES", "SNAPSHOT BYTES");
        for (GroupSummary group : groups) {
            out.printf(TEXT_FORMAT, group.groupId(), group.appliedIndex(), group.keyCount(), group.sessionCount(),
                    group.dataBytes(), group.snapshotBytes());
        }
    }
}
