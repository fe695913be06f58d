package io.loomkv.core.shard;

/**
 * Raft group ids, and the client ids of the sessions a group opens.
 *
 * <p>Group 0 is the shard controller; data groups are 1..{@link #MAX_DATA_GROUP_ID}. A group
 * numbers its sessions {@code (groupId << 40) + n} with n = 1, 2, 3, ... from a replicated
 * counter, so the sessions of one client in different groups never share an id, and a later
 * slot migration can carry sessions from one group into another without renumbering them. The
 * 40 bits leave 23 for the group; the largest group id is 2^23 - 1 because client ids travel as
 * uint64 but must stay below 2^63 (the validator refuses the upper half so that Java's signed
 * longs order them).
 */
public final class GroupIds {

    /** The shard controller's group; it owns no slots. */
    public static final long CONTROLLER_GROUP_ID = 0;
    /** Bits of a client id that number the sessions within one group. */
    public static final int SESSION_COUNTER_BITS = 40;
    public static final long MAX_DATA_GROUP_ID = (1L << (Long.SIZE - 1 - SESSION_COUNTER_BITS)) - 1;
    /** The most sessions one group can ever open (n runs from 1 to this). */
    public static final long MAX_SESSIONS_PER_GROUP = (1L << SESSION_COUNTER_BITS) - 1;

    private GroupIds() {}

    /** Checks that {@code groupId} is a data group's id; returns it. */
    public static long requireDataGroup(long groupId) {
        if (groupId == CONTROLLER_GROUP_ID) {
            throw new IllegalArgumentException("group 0 is reserved for the shard controller and holds no data");
        }
        if (groupId < 0 || groupId > MAX_DATA_GROUP_ID) {
            throw new IllegalArgumentException("group id " + Long.toUnsignedString(groupId) + " is outside 1.."
                    + MAX_DATA_GROUP_ID);
        }
        return groupId;
    }

    /** Checks that {@code groupId} is a group's id, the controller's (0) or a data group's; returns it. */
    public static long requireGroup(long groupId) {
        return groupId == CONTROLLER_GROUP_ID ? groupId : requireDataGroup(groupId);
    }

    /** The id of the first session {@code groupId} opens (the controller's are 1, 2, 3, ...). */
    public static long firstClientId(long groupId) {
        return (requireGroup(groupId) << SESSION_COUNTER_BITS) + 1;
    }

    /** The id of the last session {@code groupId} can open. */
    public static long lastClientId(long groupId) {
        return (requireGroup(groupId) << SESSION_COUNTER_BITS) + MAX_SESSIONS_PER_GROUP;
    }

    /** The group that opened the session {@code clientId} (0: the controller's, or an id no group hands out). */
    public static long groupOfClientId(long clientId) {
        return clientId >>> SESSION_COUNTER_BITS;
    }
}
