package io.loomkv.core.shard;

import java.util.Objects;

/** The slots of {@code range} belong to data group {@code groupId}: one row of a {@link SlotLayout}. */
public record SlotAssignment(SlotRange range, long groupId) {
    public SlotAssignment {
        Objects.requireNonNull(range, "range");
        if (groupId == GroupIds.CONTROLLER_GROUP_ID) {
            throw new IllegalArgumentException("slots " + range + " are assigned to group 0, which is reserved for "
                    + "the shard controller and may not own slots");
        }
        GroupIds.requireDataGroup(groupId);
    }

    public static SlotAssignment of(int first, int last, long groupId) {
        return new SlotAssignment(new SlotRange(first, last), groupId);
    }
}
