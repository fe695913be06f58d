package io.loomkv.persist.wal;

import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What recovery found in the WAL.
 *
 * @param groups every group with records in the WAL that was not dropped, by id
 * @param droppedGroups groups whose drop record the WAL still holds and that were not created again
 *     (their other files may outlive the drop if the store crashed right after it)
 */
public record WalContents(Map<Long, GroupContents> groups, Set<Long> droppedGroups) {
    public WalContents {
        groups = Collections.unmodifiableMap(new TreeMap<>(groups));
        droppedGroups = Collections.unmodifiableSet(new TreeSet<>(droppedGroups));
        groups.forEach((id, contents) -> {
            if (contents.groupId() != id) {
                throw new IllegalArgumentException("contents of group " + contents.groupId() + " filed under " + id);
            }
        });
        for (long id : droppedGroups) {
            if (groups.containsKey(id)) {
                throw new IllegalArgumentException("group " + id + " is both alive and dropped");
            }
        }
    }

    /** The group's contents, or null when the WAL holds nothing of it. */
    public GroupContents group(long groupId) {
        return groups.get(groupId);
    }
}
