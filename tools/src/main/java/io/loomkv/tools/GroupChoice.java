package io.loomkv.tools;

import io.loomkv.core.shard.SlotLayout;
import java.util.List;

/**
 * Which group an admin command ({@code member ...}, {@code transfer-leader}) is about. Group 0 (or
 * no {@code --group}) means "the only group" and is refused on a sharded cluster, naming its
 * groups: a membership change sent to whichever group comes first would change the wrong group
 * without a word.
 */
final class GroupChoice {
    private GroupChoice() {
    }

    /** The group meant by {@code requested} (0: the only one) under {@code layout}; the error names the groups. */
    static long resolve(long requested, SlotLayout layout) {
        List<Long> groups = layout.groups();
        if (requested == 0) {
            if (groups.size() == 1) {
                return groups.get(0);
            }
            throw new IllegalArgumentException("this cluster has " + groups.size() + " data groups ("
                    + CompactRanges.ids(groups) + "): name one with --group G (./loomkv ctl groups lists them)");
        }
        if (!groups.contains(requested)) {
            throw new IllegalArgumentException("group " + requested + " is not a data group of this cluster (its groups: "
                    + CompactRanges.ids(groups) + ")");
        }
        return requested;
    }
}
