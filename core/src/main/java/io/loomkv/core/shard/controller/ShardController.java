package io.loomkv.core.shard.controller;

import io.loomkv.core.shard.AddedStores;
import io.loomkv.core.shard.GroupIds;
import io.loomkv.core.shard.SlotAssignment;
import io.loomkv.core.shard.SlotBalancer;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.Slots;
import io.loomkv.core.shard.controller.proto.AddStore;
import io.loomkv.core.shard.controller.proto.ControllerCommand;
import io.loomkv.core.shard.controller.proto.ControllerReply;
import io.loomkv.core.shard.controller.proto.ControllerSnapshot;
import io.loomkv.core.shard.controller.proto.JoinGroups;
import io.loomkv.core.shard.controller.proto.LeaveGroups;
import io.loomkv.core.shard.controller.proto.MoveSlots;
import io.loomkv.core.shard.controller.proto.ReplaceReplica;
import io.loomkv.core.shard.proto.GroupReplicas;
import io.loomkv.core.shard.proto.Layout;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The shard controller's state machine (the controller group applies its log through it; pure, so
 * every replica computes the same configurations): a numbered history of slot layouts, and the
 * commands that make the next one. Configuration n is the layout with version n.
 *
 * <ul>
 *   <li><b>Join</b> adds data groups with their replica stores and spreads the slots evenly over
 *       all groups with the fewest moves ({@link SlotBalancer}): only slots to the new groups.
 *   <li><b>Leave</b> retires groups; only their slots move, evenly over the rest.
 *   <li><b>Move</b> gives a slot range to one group and moves nothing else (no rebalancing, as in
 *       the 6.824 shard controller: an operator's explicit choice is kept until the next Join or
 *       Leave).
 *   <li><b>ReplaceReplica</b> moves one replica of a group to another store (the list keeps its
 *       order; the group's count of replica changes goes up by one); the group's leader carries
 *       it out with membership changes. No slot moves. Group 0, the controller itself, moves the
 *       same way when the configuration lists its stores (those made since configuration 1 do).
 *   <li><b>AddStore</b> lists a new store with its addresses in the next configuration and every
 *       later one ({@link AddedStores}), so every store learns where it is; groups can then be
 *       placed on it. Nothing moves.
 *   <li><b>ForgetStore</b> drops an added store that no group lists from the next configuration
 *       (its id joins the forgotten ones, so every store drops its addresses); the id may then be
 *       added again. Nothing moves.
 *   <li><b>Query</b> returns configuration n exactly as it was made, or the latest.
 * </ul>
 *
 * A refused command (unknown group, a group joining twice, leaving every group, a bad range)
 * gets a reply naming the problem and changes nothing. The history is bounded: the newest
 * {@value #MAX_RETAINED_CONFIGS} configurations are kept (as compact messages; a layout is
 * rebuilt when asked for), and a query for an older one says it was discarded.
 */
public final class ShardController {
    /** Configurations kept for historical queries. */
    public static final int MAX_RETAINED_CONFIGS = 1024;
    /** Groups one Join or Leave may name. */
    public static final int MAX_GROUPS_PER_COMMAND = 1024;
    /** Stores one group may be placed on. */
    public static final int MAX_REPLICAS_PER_GROUP = 7;

    private final ArrayDeque<Layout> configs = new ArrayDeque<>();
    private SlotLayout latest;

    /** A controller without configurations: its log's first command is a {@code Bootstrap}. */
    public ShardController() {
    }

    /** A controller whose first configuration is {@code initial} (the bootstrap layout). */
    public ShardController(SlotLayout initial) {
        append(initial);
    }

    /** The controller a snapshot describes. */
    public static ShardController restore(ControllerSnapshot snapshot) {
        if (snapshot.getConfigsCount() > MAX_RETAINED_CONFIGS) {
            throw new IllegalArgumentException("a controller snapshot holds at most " + MAX_RETAINED_CONFIGS
                    + " configurations, this one " + snapshot.getConfigsCount());
        }
        ShardController controller = new ShardController();
        for (Layout config : snapshot.getConfigsList()) {
            SlotLayout layout = SlotLayout.fromProto(config);
            if (controller.latest != null && layout.version() != controller.latest.version() + 1) {
                throw new IllegalArgumentException("controller snapshot jumps from configuration "
                        + controller.latest.version() + " to " + layout.version());
            }
            controller.append(layout);
        }
        return controller;
    }

    public ControllerSnapshot snapshot() {
        return ControllerSnapshot.newBuilder().addAllConfigs(configs).build();
    }

    /** The latest configuration; null before the bootstrap. */
    public SlotLayout latest() {
        return latest;
    }

    /** The oldest configuration still kept (0 before the bootstrap). */
    public long oldestRetained() {
        return configs.isEmpty() ? 0 : configs.peekFirst().getVersion();
    }

    /** Carries out one command; the reply says what came of it. */
    public ControllerReply apply(ControllerCommand command) {
        try {
            if (latest == null && command.getOpCase() != ControllerCommand.OpCase.BOOTSTRAP) {
                return refused("the shard controller has no configuration yet (its bootstrap entry is not applied)");
            }
            return switch (command.getOpCase()) {
                case BOOTSTRAP -> made(bootstrap(command.getBootstrap().getConfig()));
                case JOIN -> made(join(command.getJoin()));
                case LEAVE -> made(leave(command.getLeave()));
                case MOVE -> made(move(command.getMove()));
                case REPLACE_REPLICA -> made(replaceReplica(command.getReplaceReplica()));
                case ADD_STORE -> made(addStore(command.getAddStore()));
                case FORGET_STORE -> made(forgetStore(command.getForgetStore().getStoreId()));
                case QUERY -> ControllerReply.newBuilder().setConfig(query(command.getQuery().getNumber())).build();
                case OP_NOT_SET -> refused("empty controller command");
            };
        } catch (IllegalArgumentException e) {
            return refused(e.getMessage());
        }
    }

    /** Configuration {@code number}, or the latest for -1 or a number past it. */
    public Layout query(long number) {
        if (latest == null) {
            throw new IllegalArgumentException("the shard controller has no configuration yet");
        }
        long latestNumber = latest.version();
        if (number == -1 || number > latestNumber) {
            return configs.peekLast();
        }
        if (number <= 0) {
            throw new IllegalArgumentException("configuration numbers start at 1 (or -1 for the latest), got " + number);
        }
        long oldest = oldestRetained();
        if (number < oldest) {
            throw new IllegalArgumentException("configuration " + number + " was discarded; the oldest kept is "
                    + oldest + " (the controller keeps the newest " + MAX_RETAINED_CONFIGS + ")");
        }
        int index = (int) (number - oldest);
        int i = 0;
        for (Layout config : configs) {
            if (i++ == index) {
                return config;
            }
        }
        throw new IllegalStateException("configuration " + number + " missing between " + oldest + " and " + latestNumber);
    }

    private SlotLayout bootstrap(Layout config) {
        if (latest != null) {
            throw new IllegalArgumentException("the shard controller was bootstrapped already (configuration "
                    + latest.version() + " exists)");
        }
        SlotLayout layout = SlotLayout.fromProto(config);
        if (layout.version() != 1) {
            throw new IllegalArgumentException("the first configuration has version 1, not " + layout.version());
        }
        append(layout);
        return layout;
    }

    private SlotLayout join(JoinGroups join) {
        if (join.getGroupsCount() == 0 || join.getGroupsCount() > MAX_GROUPS_PER_COMMAND) {
            throw new IllegalArgumentException("a join names 1.." + MAX_GROUPS_PER_COMMAND + " groups, this one "
                    + join.getGroupsCount());
        }
        Map<Long, List<Long>> replicas = replicasOf(latest);
        for (GroupReplicas group : join.getGroupsList()) {
            long id = GroupIds.requireDataGroup(group.getGroupId());
            if (replicas.containsKey(id)) {
                throw new IllegalArgumentException("group " + id + " is already in configuration " + latest.version());
            }
            List<Long> stores = group.getStoreIdsList();
            if (stores.isEmpty() || stores.size() > MAX_REPLICAS_PER_GROUP) {
                throw new IllegalArgumentException("group " + id + " needs 1.." + MAX_REPLICAS_PER_GROUP
                        + " stores, got " + stores.size());
            }
            if (new HashSet<>(stores).size() != stores.size() || stores.stream().anyMatch(s -> s <= 0)) {
                throw new IllegalArgumentException("group " + id + ": store ids must be positive and distinct, got " + stores);
            }
            replicas.put(id, List.copyOf(stores));
        }
        if (replicas.size() > SlotLayout.MAX_GROUPS) {
            throw new IllegalArgumentException("a configuration holds at most " + SlotLayout.MAX_GROUPS + " groups");
        }
        return rebalanced(replicas);
    }

    private SlotLayout leave(LeaveGroups leave) {
        if (leave.getGroupIdsCount() == 0 || leave.getGroupIdsCount() > MAX_GROUPS_PER_COMMAND) {
            throw new IllegalArgumentException("a leave names 1.." + MAX_GROUPS_PER_COMMAND + " groups, this one "
                    + leave.getGroupIdsCount());
        }
        Map<Long, List<Long>> replicas = replicasOf(latest);
        Set<Long> leaving = new TreeSet<>();
        for (long id : leave.getGroupIdsList()) {
            if (!replicas.containsKey(id)) {
                throw new IllegalArgumentException("group " + Long.toUnsignedString(id) + " is not in configuration "
                        + latest.version());
            }
            leaving.add(id);
        }
        if (leaving.size() == replicas.size()) {
            throw new IllegalArgumentException("the last data groups cannot leave: the slots need an owner");
        }
        replicas.keySet().removeAll(leaving);
        return rebalanced(replicas);
    }

    private SlotLayout move(MoveSlots move) {
        long first = Integer.toUnsignedLong(move.getFirst());
        long last = Integer.toUnsignedLong(move.getLast());
        if (first > last || last >= Slots.SLOT_COUNT) {
            throw new IllegalArgumentException("slot range " + first + ".." + last + " is not within 0.."
                    + (Slots.SLOT_COUNT - 1));
        }
        long group = move.getGroupId();
        Map<Long, List<Long>> replicas = replicasOf(latest);
        if (!replicas.containsKey(group)) {
            throw new IllegalArgumentException("group " + Long.toUnsignedString(group) + " is not in configuration "
                    + latest.version());
        }
        long[] owners = SlotBalancer.owners(latest);
        for (long slot = first; slot <= last; slot++) {
            owners[(int) slot] = group;
        }
        return next(owners, replicas);
    }

    /**
     * One store of a group's list replaced by another, in place. One store per command: the group
     * then changes its membership by one learner and one joint change, never losing its quorum's
     * overlap with the previous one.
     */
    private SlotLayout replaceReplica(ReplaceReplica replace) {
        long group = replace.getGroupId();
        Map<Long, List<Long>> replicas = replicasOf(latest);
        List<Long> stores = replicas.get(group);
        if (group == GroupIds.CONTROLLER_GROUP_ID) {
            if (latest.controllerStores().isEmpty()) {
                throw new IllegalArgumentException("configuration " + latest.version() + " does not list the shard"
                        + " controller's stores (its cluster was created before configurations did), so group 0's"
                        + " replicas cannot be moved");
            }
            stores = latest.controllerStores();
        }
        if (stores == null) {
            throw new IllegalArgumentException("group " + Long.toUnsignedString(group) + " is not in configuration "
                    + latest.version());
        }
        long from = replace.getFromStore();
        long to = replace.getToStore();
        if (from == to) {
            throw new IllegalArgumentException("moving group " + group + "'s replica from store " + from
                    + " to the same store changes nothing");
        }
        if (!stores.contains(from)) {
            throw new IllegalArgumentException("store " + Long.toUnsignedString(from) + " hosts no replica of group " + group
                    + " (its stores: " + stores + ")");
        }
        if (to <= 0) {
            throw new IllegalArgumentException("store ids must be positive, got " + Long.toUnsignedString(to));
        }
        if (stores.contains(to)) {
            throw new IllegalArgumentException("store " + to + " already hosts a replica of group " + group
                    + " (its stores: " + stores + "); two replicas of a group on one store would fail together");
        }
        List<Long> moved = new ArrayList<>(stores);
        moved.set(moved.indexOf(from), to);
        if (group == GroupIds.CONTROLLER_GROUP_ID) {
            return next(SlotBalancer.owners(latest), replicas, replicaChangesOf(latest, replicas.keySet()),
                    latest.addedStores(), List.copyOf(moved), latest.replicaChanges(group) + 1);
        }
        replicas.put(group, List.copyOf(moved));
        Map<Long, Long> changes = replicaChangesOf(latest, replicas.keySet());
        changes.merge(group, 1L, Long::sum);
        return next(SlotBalancer.owners(latest), replicas, changes);
    }

    private SlotLayout addStore(AddStore add) {
        if (!add.hasStore()) {
            throw new IllegalArgumentException("an AddStore names the store and its addresses");
        }
        // Stamped with the configuration that adds it, so a process of an earlier store with this id
        // (forgotten since) can tell the listed store is another one.
        AddedStores grown = latest.addedStores().with(add.getStore().toBuilder().setAddedIn(latest.version() + 1).build());
        Map<Long, List<Long>> replicas = replicasOf(latest);
        return next(SlotBalancer.owners(latest), replicas, replicaChangesOf(latest, replicas.keySet()), grown);
    }

    /**
     * An added store no group lists any more leaves the list. Refused while a group still lists it:
     * the stores would drop its addresses while the group's leader still needs them to move the
     * replica off (or to reach it as a member).
     */
    private SlotLayout forgetStore(long storeId) {
        AddedStores shrunk = latest.addedStores().without(storeId);
        List<Long> hosted = new ArrayList<>();
        if (latest.controllerStores().contains(storeId)) {
            hosted.add(GroupIds.CONTROLLER_GROUP_ID);
        }
        for (long group : latest.groups()) {
            if (latest.replicas(group).contains(storeId)) {
                hosted.add(group);
            }
        }
        if (!hosted.isEmpty()) {
            throw new IllegalArgumentException("store " + Long.toUnsignedString(storeId) + " still hosts replicas of groups "
                    + hosted + " in configuration " + latest.version() + "; move them off first (ctl config remove-store)");
        }
        Map<Long, List<Long>> replicas = replicasOf(latest);
        return next(SlotBalancer.owners(latest), replicas, replicaChangesOf(latest, replicas.keySet()), shrunk);
    }

    private SlotLayout rebalanced(Map<Long, List<Long>> replicas) {
        long[] groups = replicas.keySet().stream().mapToLong(Long::longValue).sorted().toArray();
        return next(SlotBalancer.balance(SlotBalancer.owners(latest), groups), replicas);
    }

    /** The next configuration; groups that own no slots stay listed (a Move may have emptied one). */
    private SlotLayout next(long[] owners, Map<Long, List<Long>> replicas) {
        return next(owners, replicas, replicaChangesOf(latest, replicas.keySet()));
    }

    private SlotLayout next(long[] owners, Map<Long, List<Long>> replicas, Map<Long, Long> replicaChanges) {
        return next(owners, replicas, replicaChanges, latest.addedStores());
    }

    private SlotLayout next(long[] owners, Map<Long, List<Long>> replicas, Map<Long, Long> replicaChanges,
            AddedStores addedStores) {
        return next(owners, replicas, replicaChanges, addedStores, latest.controllerStores(),
                latest.controllerStores().isEmpty() ? 0 : latest.replicaChanges(GroupIds.CONTROLLER_GROUP_ID));
    }

    /** Every configuration carries the controller's stores on (an older one without them stays without). */
    private SlotLayout next(long[] owners, Map<Long, List<Long>> replicas, Map<Long, Long> replicaChanges,
            AddedStores addedStores, List<Long> controllerStores, long controllerChanges) {
        List<SlotAssignment> rows = SlotBalancer.assignments(owners);
        SlotLayout layout = SlotLayout.of(latest.version() + 1, rows, replicas, replicaChanges).withAddedStores(addedStores);
        if (!controllerStores.isEmpty()) {
            layout = layout.withController(controllerStores, controllerChanges);
        }
        append(layout);
        return layout;
    }

    private void append(SlotLayout layout) {
        configs.addLast(layout.toProto());
        latest = layout;
        while (configs.size() > MAX_RETAINED_CONFIGS) {
            configs.removeFirst();
        }
    }

    private static Map<Long, List<Long>> replicasOf(SlotLayout layout) {
        Map<Long, List<Long>> replicas = new LinkedHashMap<>();
        for (long group : layout.groups()) {
            replicas.put(group, layout.replicas(group));
        }
        return replicas;
    }

    /** The replica-change counts of {@code layout}'s groups that are still in {@code groups} (a new group starts at 0). */
    private static Map<Long, Long> replicaChangesOf(SlotLayout layout, Set<Long> groups) {
        Map<Long, Long> changes = new LinkedHashMap<>();
        for (long group : layout.groups()) {
            long count = layout.replicaChanges(group);
            if (count != 0 && groups.contains(group)) {
                changes.put(group, count);
            }
        }
        return changes;
    }

    private static ControllerReply made(SlotLayout layout) {
        return ControllerReply.newBuilder().setConfig(layout.toProto()).build();
    }

    private static ControllerReply refused(String why) {
        return ControllerReply.newBuilder().setError(why).build();
    }

    /** The groups of {@code config}, ascending (for callers that hold only the message). */
    public static List<Long> groupsOf(Layout config) {
        List<Long> groups = new ArrayList<>();
        for (GroupReplicas group : config.getGroupsList()) {
            groups.add(group.getGroupId());
        }
        return groups;
    }
}
