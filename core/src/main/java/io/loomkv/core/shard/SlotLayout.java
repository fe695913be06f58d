package io.loomkv.core.shard;

import io.loomkv.core.shard.proto.GroupReplicas;
import io.loomkv.core.shard.proto.Layout;
import io.loomkv.core.shard.proto.SlotRangeAssignment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * One version of the cluster's shape: which data group owns each slot, and which stores host
 * each group's replicas. Immutable and fully validated on construction: every one of the 16384
 * slots belongs to exactly one group, group ids are data group ids (1..2^23 - 1; group 0, the
 * shard controller, owns no slots), every group that owns slots has at least one replica, and a
 * group's store ids are distinct and positive. A layout read from the wire or from disk goes
 * through the same checks ({@link #fromProto}), so a malformed one never gets in.
 *
 * <p>Group 0's stores are listed beside the data groups ({@link #controllerStores}): it owns no
 * slots and is not one of {@link #groups}, but {@link #replicas} and {@link #replicaChanges} answer
 * for it when the layout lists it, so a replica move of the controller runs the same code as one of
 * a data group.
 *
 * <p>{@link #groupOf} is one array lookup: a table of 16384 group indexes (32 KiB) built once,
 * since every request of a store asks it.
 */
public final class SlotLayout {

    /** More groups than slots would mean groups that can never own data; also bounds a layout from the wire. */
    public static final int MAX_GROUPS = Slots.SLOT_COUNT;
    /** Bounds group 0's list from the wire; the controller keeps it at its created size. */
    public static final int MAX_CONTROLLER_REPLICAS = 7;

    private final long version;
    /** Group ids ascending; a group's index in this array is what {@link #groupIndexBySlot} holds. */
    private final long[] groupIds;
    /**
     * {@link #groupIds} boxed once: stores walk the groups of their layout every few ticks, and a
     * list built per call cost a store hosting 1,000 idle replicas most of its idle CPU.
     */
    private final List<Long> groupList;
    private final char[] groupIndexBySlot;
    private final List<List<Long>> replicasByIndex;
    /** Per group index: how many replica moves changed its stores since it joined (see {@link #replicaChanges}). */
    private final long[] replicaChangesByIndex;
    private final SlotSet[] slotsByIndex;
    private final AddedStores addedStores;
    /** Group 0's stores; empty in a layout made before the controller listed them. */
    private final List<Long> controllerStores;
    private final long controllerReplicaChanges;

    private SlotLayout(long version, long[] groupIds, char[] groupIndexBySlot, List<List<Long>> replicasByIndex,
            long[] replicaChangesByIndex, SlotSet[] slotsByIndex, AddedStores addedStores, List<Long> controllerStores,
            long controllerReplicaChanges) {
        this.version = version;
        this.groupIds = groupIds;
        this.groupList = Arrays.stream(groupIds).boxed().toList();
        this.groupIndexBySlot = groupIndexBySlot;
        this.replicasByIndex = replicasByIndex;
        this.replicaChangesByIndex = replicaChangesByIndex;
        this.slotsByIndex = slotsByIndex != null ? slotsByIndex : slotSets(groupIds.length, groupIndexBySlot);
        this.addedStores = addedStores;
        this.controllerStores = controllerStores;
        this.controllerReplicaChanges = controllerReplicaChanges;
    }

    /**
     * A layout from its rows: {@code assignments} in any order (together they must cover every
     * slot exactly once) and the replicas of each group, in the order given (which is kept).
     *
     * @throws IllegalArgumentException naming the first problem found
     */
    public static SlotLayout of(long version, List<SlotAssignment> assignments, Map<Long, List<Long>> replicasByGroup) {
        return of(version, assignments, replicasByGroup, Map.of());
    }

    /**
     * As {@link #of(long, List, Map)}, with each group's count of replica moves (groups not in
     * {@code replicaChangesByGroup} have none).
     *
     * @throws IllegalArgumentException naming the first problem found
     */
    public static SlotLayout of(long version, List<SlotAssignment> assignments, Map<Long, List<Long>> replicasByGroup,
            Map<Long, Long> replicaChangesByGroup) {
        if (version <= 0) {
            throw new IllegalArgumentException("layout version must be positive, got " + Long.toUnsignedString(version));
        }
        if (replicasByGroup.size() > MAX_GROUPS) {
            throw new IllegalArgumentException("layout lists " + replicasByGroup.size() + " groups, over " + MAX_GROUPS);
        }
        TreeMap<Long, List<Long>> sorted = new TreeMap<>();
        for (Map.Entry<Long, List<Long>> entry : replicasByGroup.entrySet()) {
            long groupId = GroupIds.requireDataGroup(entry.getKey());
            sorted.put(groupId, checkReplicas(groupId, entry.getValue()));
        }
        long[] groupIds = sorted.keySet().stream().mapToLong(Long::longValue).toArray();
        long[] replicaChanges = new long[groupIds.length];
        for (Map.Entry<Long, Long> entry : replicaChangesByGroup.entrySet()) {
            int index = Arrays.binarySearch(groupIds, entry.getKey());
            if (index < 0 || entry.getValue() < 0) {
                throw new IllegalArgumentException("group " + Long.toUnsignedString(entry.getKey()) + " has "
                        + entry.getValue() + " replica changes" + (index < 0 ? " but is not listed" : ", below 0"));
            }
            replicaChanges[index] = entry.getValue();
        }
        char[] table = slotTable(assignments, groupIds);
        return new SlotLayout(version, groupIds, table, List.copyOf(sorted.values()), replicaChanges, null, AddedStores.NONE,
                List.of(), 0);
    }

    /** This layout listing {@code stores} as the stores added to the cluster (slots and groups unchanged). */
    public SlotLayout withAddedStores(AddedStores stores) {
        return new SlotLayout(version, groupIds, groupIndexBySlot, replicasByIndex, replicaChangesByIndex, slotsByIndex,
                Objects.requireNonNull(stores, "stores"), controllerStores, controllerReplicaChanges);
    }

    /**
     * This layout listing {@code stores} as group 0's, the shard controller's, moved {@code
     * replicaChanges} times (slots and data groups unchanged).
     *
     * @throws IllegalArgumentException when the stores are empty, repeat, are not positive or more than
     *     {@value #MAX_CONTROLLER_REPLICAS}, or the count is negative
     */
    public SlotLayout withController(List<Long> stores, long replicaChanges) {
        if (stores.size() > MAX_CONTROLLER_REPLICAS) {
            throw new IllegalArgumentException("the shard controller has at most " + MAX_CONTROLLER_REPLICAS
                    + " replicas, got " + stores.size());
        }
        if (replicaChanges < 0) {
            throw new IllegalArgumentException("the shard controller has " + replicaChanges + " replica changes, below 0");
        }
        return new SlotLayout(version, groupIds, groupIndexBySlot, replicasByIndex, replicaChangesByIndex, slotsByIndex,
                addedStores, checkReplicas(GroupIds.CONTROLLER_GROUP_ID, stores), replicaChanges);
    }

    /**
     * The stores hosting group 0, the shard controller; empty when this layout does not list them
     * (made before configurations carried them).
     */
    public List<Long> controllerStores() {
        return controllerStores;
    }

    /** The stores added to the cluster after it was created, with their addresses, and those forgotten since. */
    public AddedStores addedStores() {
        return addedStores;
    }

    /**
     * {@code groupCount} groups numbered 1..N with equal shares of the slots (sizes differ by at
     * most one): group i owns {@code floor((i-1) * 16384 / N) .. floor(i * 16384 / N) - 1}.
     * Replicas: when {@code replicasPerGroup} is at least the number of stores, every store hosts
     * every group (listed ascending); otherwise, with the stores sorted ascending, group g takes
     * {@code replicasPerGroup} consecutive stores starting at index {@code (g - 1) % stores},
     * wrapping, so the groups spread evenly over the stores.
     */
    public static SlotLayout evenSplit(long version, int groupCount, List<Long> storeIds, int replicasPerGroup) {
        if (groupCount < 1 || groupCount > Slots.SLOT_COUNT) {
            throw new IllegalArgumentException("group count must be in 1.." + Slots.SLOT_COUNT + ", got " + groupCount);
        }
        if (replicasPerGroup < 1) {
            throw new IllegalArgumentException("replicas per group must be at least 1, got " + replicasPerGroup);
        }
        if (storeIds.isEmpty()) {
            throw new IllegalArgumentException("an even split needs at least one store");
        }
        long[] stores = storeIds.stream().mapToLong(Long::longValue).sorted().toArray();
        for (int i = 0; i < stores.length; i++) {
            if (stores[i] <= 0 || (i > 0 && stores[i] == stores[i - 1])) {
                throw new IllegalArgumentException("store ids must be positive and distinct, got " + storeIds);
            }
        }
        List<SlotAssignment> assignments = new ArrayList<>(groupCount);
        Map<Long, List<Long>> replicas = new LinkedHashMap<>();
        for (int group = 1; group <= groupCount; group++) {
            int first = (int) ((long) (group - 1) * Slots.SLOT_COUNT / groupCount);
            int end = (int) ((long) group * Slots.SLOT_COUNT / groupCount);
            assignments.add(SlotAssignment.of(first, end - 1, group));
            boolean everywhere = replicasPerGroup >= stores.length;
            int count = everywhere ? stores.length : replicasPerGroup;
            int start = everywhere ? 0 : (group - 1) % stores.length;
            List<Long> hosts = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                hosts.add(stores[(start + i) % stores.length]);
            }
            replicas.put((long) group, hosts);
        }
        return of(version, assignments, replicas);
    }

    /**
     * A layout read from the wire or from disk, with every check of {@link #of}, plus: slot
     * numbers within 0..16383, no group listed twice.
     *
     * @throws IllegalArgumentException naming the problem
     */
    public static SlotLayout fromProto(Layout layout) {
        if (layout.getRangesCount() > Slots.SLOT_COUNT) {
            throw new IllegalArgumentException("layout " + Long.toUnsignedString(layout.getVersion()) + " has "
                    + layout.getRangesCount() + " slot ranges, more than there are slots");
        }
        List<SlotAssignment> assignments = new ArrayList<>(layout.getRangesCount());
        for (SlotRangeAssignment range : layout.getRangesList()) {
            long first = Integer.toUnsignedLong(range.getFirst());
            long last = Integer.toUnsignedLong(range.getLast());
            if (first >= Slots.SLOT_COUNT || last >= Slots.SLOT_COUNT) {
                throw new IllegalArgumentException("slot range " + first + ".." + last + " is outside 0.."
                        + (Slots.SLOT_COUNT - 1));
            }
            assignments.add(SlotAssignment.of((int) first, (int) last, range.getGroupId()));
        }
        if (layout.getGroupsCount() > MAX_GROUPS) {
            throw new IllegalArgumentException("layout lists " + layout.getGroupsCount() + " groups, over " + MAX_GROUPS);
        }
        Map<Long, List<Long>> replicas = new LinkedHashMap<>();
        Map<Long, Long> replicaChanges = new TreeMap<>();
        for (GroupReplicas group : layout.getGroupsList()) {
            if (replicas.put(group.getGroupId(), group.getStoreIdsList()) != null) {
                throw new IllegalArgumentException("group " + Long.toUnsignedString(group.getGroupId())
                        + " is listed twice");
            }
            if (group.getReplicaChanges() != 0) {
                replicaChanges.put(group.getGroupId(), group.getReplicaChanges());
            }
        }
        SlotLayout parsed = of(layout.getVersion(), assignments, replicas, replicaChanges);
        if (layout.getAddedStoresCount() != 0 || layout.getForgottenStoreIdsCount() != 0) {
            parsed = parsed.withAddedStores(AddedStores.fromProto(layout.getAddedStoresList(), layout.getForgottenStoreIdsList()));
        }
        if (layout.hasController()) {
            GroupReplicas controller = layout.getController();
            if (controller.getGroupId() != GroupIds.CONTROLLER_GROUP_ID) {
                throw new IllegalArgumentException("layout " + Long.toUnsignedString(layout.getVersion())
                        + " lists group " + Long.toUnsignedString(controller.getGroupId()) + " as the shard controller's");
            }
            parsed = parsed.withController(controller.getStoreIdsList(), controller.getReplicaChanges());
        }
        return parsed;
    }

    /** This layout as a message; ranges ascending with adjacent ranges of one group merged, groups ascending. */
    public Layout toProto() {
        Layout.Builder layout = Layout.newBuilder().setVersion(version);
        for (SlotAssignment assignment : assignments()) {
            layout.addRanges(SlotRangeAssignment.newBuilder()
                    .setFirst(assignment.range().first())
                    .setLast(assignment.range().last())
                    .setGroupId(assignment.groupId()));
        }
        for (int index = 0; index < groupIds.length; index++) {
            layout.addGroups(GroupReplicas.newBuilder()
                    .setGroupId(groupIds[index])
                    .addAllStoreIds(replicasByIndex.get(index))
                    .setReplicaChanges(replicaChangesByIndex[index]));
        }
        layout.addAllAddedStores(addedStores.all());
        layout.addAllForgottenStoreIds(addedStores.forgotten());
        if (!controllerStores.isEmpty()) {
            layout.setController(GroupReplicas.newBuilder().setGroupId(GroupIds.CONTROLLER_GROUP_ID)
                    .addAllStoreIds(controllerStores).setReplicaChanges(controllerReplicaChanges));
        }
        return layout.build();
    }

    /** The configuration number: a later layout has a higher version. */
    public long version() {
        return version;
    }

    /** The group that owns {@code slot}. */
    public long groupOf(int slot) {
        return groupIds[groupIndexBySlot[Slots.requireSlot(slot)]];
    }

    /** The slots {@code groupId} owns (empty for a listed group that owns none). */
    public SlotSet slotsOf(long groupId) {
        return slotsByIndex[indexOf(groupId)];
    }

    /**
     * The stores hosting {@code groupId}'s replicas, in the layout's order; for group 0 the
     * controller's stores when the layout lists them.
     */
    public List<Long> replicas(long groupId) {
        if (groupId == GroupIds.CONTROLLER_GROUP_ID && !controllerStores.isEmpty()) {
            return controllerStores;
        }
        return replicasByIndex.get(indexOf(groupId));
    }

    /**
     * How many replica moves ({@code ReplaceReplica}) changed {@code groupId}'s stores since it
     * joined. 0 means its stores are the ones it was created on, which write its initial
     * membership; after a move a store new to the list joins the running group instead (its
     * leader adds it), so it must not write one.
     */
    public long replicaChanges(long groupId) {
        if (groupId == GroupIds.CONTROLLER_GROUP_ID && !controllerStores.isEmpty()) {
            return controllerReplicaChanges;
        }
        return replicaChangesByIndex[indexOf(groupId)];
    }

    /** Every group of the layout, ascending (unmodifiable). Ask {@link #hasGroup} rather than its {@code contains}. */
    public List<Long> groups() {
        return groupList;
    }

    /** Whether {@code groupId} is one of {@link #groups}: a binary search, for loops over a store's replicas. */
    public boolean hasGroup(long groupId) {
        return Arrays.binarySearch(groupIds, groupId) >= 0;
    }

    /** The slot table as ranges, ascending, with adjacent slots of one group merged into one range. */
    public List<SlotAssignment> assignments() {
        List<SlotAssignment> assignments = new ArrayList<>();
        int first = 0;
        for (int slot = 1; slot <= Slots.SLOT_COUNT; slot++) {
            if (slot == Slots.SLOT_COUNT || groupIndexBySlot[slot] != groupIndexBySlot[first]) {
                assignments.add(SlotAssignment.of(first, slot - 1, groupIds[groupIndexBySlot[first]]));
                first = slot;
            }
        }
        return assignments;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof SlotLayout layout
                && version == layout.version
                && Arrays.equals(groupIds, layout.groupIds)
                && Arrays.equals(groupIndexBySlot, layout.groupIndexBySlot)
                && replicasByIndex.equals(layout.replicasByIndex)
                && Arrays.equals(replicaChangesByIndex, layout.replicaChangesByIndex)
                && addedStores.equals(layout.addedStores)
                && controllerStores.equals(layout.controllerStores)
                && controllerReplicaChanges == layout.controllerReplicaChanges;
    }

    @Override
    public int hashCode() {
        return Objects.hash(version, Arrays.hashCode(groupIds), Arrays.hashCode(groupIndexBySlot), replicasByIndex,
                Arrays.hashCode(replicaChangesByIndex), addedStores, controllerStores, controllerReplicaChanges);
    }

    @Override
    public String toString() {
        return "SlotLayout[version=" + version + ", groups=" + groupIds.length + ", ranges=" + assignments().size() + "]";
    }

    private int indexOf(long groupId) {
        int index = Arrays.binarySearch(groupIds, groupId);
        if (index < 0) {
            throw new IllegalArgumentException("group " + groupId + " is not in layout version " + version);
        }
        return index;
    }

    private static List<Long> checkReplicas(long groupId, List<Long> storeIds) {
        if (storeIds.isEmpty()) {
            throw new IllegalArgumentException("group " + groupId + " has no replicas");
        }
        Set<Long> seen = new HashSet<>();
        for (long storeId : storeIds) {
            if (storeId <= 0) {
                throw new IllegalArgumentException("group " + groupId + " names store id "
                        + Long.toUnsignedString(storeId) + "; store ids must be positive (below 2^63)");
            }
            if (!seen.add(storeId)) {
                throw new IllegalArgumentException("group " + groupId + " names store " + storeId + " twice");
            }
        }
        return List.copyOf(storeIds);
    }

    /** Fills the slot table from the assignments, refusing slots assigned twice or not at all. */
    private static char[] slotTable(List<SlotAssignment> assignments, long[] groupIds) {
        if (assignments.size() > Slots.SLOT_COUNT) {
            throw new IllegalArgumentException("layout has " + assignments.size() + " slot ranges, more than there are slots");
        }
        char[] table = new char[Slots.SLOT_COUNT];
        boolean[] assigned = new boolean[Slots.SLOT_COUNT];
        for (SlotAssignment assignment : assignments) {
            int index = Arrays.binarySearch(groupIds, assignment.groupId());
            if (index < 0) {
                throw new IllegalArgumentException("group " + assignment.groupId() + " owns slots "
                        + assignment.range() + " but has no replicas listed");
            }
            for (int slot = assignment.range().first(); slot <= assignment.range().last(); slot++) {
                if (assigned[slot]) {
                    throw new IllegalArgumentException("slot " + slot + " is assigned twice (to group "
                            + groupIds[table[slot]] + " and to group " + assignment.groupId() + ")");
                }
                assigned[slot] = true;
                table[slot] = (char) index;
            }
        }
        for (int slot = 0; slot < Slots.SLOT_COUNT; slot++) {
            if (!assigned[slot]) {
                int last = slot;
                while (last + 1 < Slots.SLOT_COUNT && !assigned[last + 1]) {
                    last++;
                }
                throw new IllegalArgumentException("slots " + new SlotRange(slot, last) + " are not assigned to any group");
            }
        }
        return table;
    }

    private static SlotSet[] slotSets(int groupCount, char[] table) {
        List<List<SlotRange>> ranges = new ArrayList<>(groupCount);
        for (int i = 0; i < groupCount; i++) {
            ranges.add(new ArrayList<>());
        }
        int first = 0;
        for (int slot = 1; slot <= Slots.SLOT_COUNT; slot++) {
            if (slot == Slots.SLOT_COUNT || table[slot] != table[first]) {
                ranges.get(table[first]).add(new SlotRange(first, slot - 1));
                first = slot;
            }
        }
        SlotSet[] sets = new SlotSet[groupCount];
        for (int i = 0; i < groupCount; i++) {
            sets[i] = SlotSet.of(ranges.get(i));
        }
        return sets;
    }
}
