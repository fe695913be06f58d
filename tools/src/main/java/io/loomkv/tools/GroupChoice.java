package io.loomkv.tools;

import io.loomkv.core.shard.GroupIds;
import io.loomkv.core.shard.SlotLayout;
import java.util.List;
import java.util.Locale;

/**
 * Which group an admin command ({@code member ...}, {@code transfer-leader}) is about, from its
 * {@code --group}. Left out, it means "the only data group", and is refused on a sharded cluster,
 * naming its groups: a membership change sent to whichever group comes first would change the
 * wrong group without a word. {@code --group controller} (or {@code 0}) names group 0, the shard
 * controller, which every cluster has; any other value must be a data group of the layout.
 */
final class GroupChoice {
    /** The name of group 0 on the command line. */
    static final String CONTROLLER = "controller";

    private GroupChoice() {
    }

    /**
     * The group meant by {@code requested} (null: the only data group) under {@code layout}:
     * {@link GroupIds#CONTROLLER_GROUP_ID} for the controller, else a data group; the error names
     * the groups.
     */
    static long resolve(String requested, SlotLayout layout) {
        List<Long> groups = layout.groups();
        if (requested == null) {
            if (groups.size() == 1) {
                return groups.get(0);
            }
            throw new IllegalArgumentException("this cluster has " + groups.size() + " data groups ("
                    + CompactRanges.ids(groups) + "): name one with --group G (./loomkv ctl groups lists them),"
                    + " or --group " + CONTROLLER + " for the shard controller");
        }
        String text = requested.trim().toLowerCase(Locale.ROOT);
        if (text.equals(CONTROLLER) || text.equals("0")) {
            return GroupIds.CONTROLLER_GROUP_ID;
        }
        long group;
        try {
            group = Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--group takes a group id or '" + CONTROLLER + "', not '" + requested + "'");
        }
        if (!groups.contains(group)) {
            throw new IllegalArgumentException("group " + requested.trim() + " is not a data group of this cluster (its groups: "
                    + CompactRanges.ids(groups) + "; --group " + CONTROLLER + " names the shard controller)");
        }
        return group;
    }
}
