package io.loomkv.core.shard.controller;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.shard.SlotBalancer;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.Slots;
import io.loomkv.core.shard.controller.proto.AddStore;
import io.loomkv.core.shard.controller.proto.ControllerCommand;
import io.loomkv.core.shard.controller.proto.ControllerReply;
import io.loomkv.core.shard.controller.proto.ForgetStore;
import io.loomkv.core.shard.controller.proto.JoinGroups;
import io.loomkv.core.shard.controller.proto.LeaveGroups;
import io.loomkv.core.shard.controller.proto.MoveSlots;
import io.loomkv.core.shard.controller.proto.QueryConfig;
import io.loomkv.core.shard.controller.proto.ReplaceReplica;
import io.loomkv.core.shard.proto.GroupReplicas;
import io.loomkv.core.shard.proto.Layout;
import io.loomkv.core.shard.proto.StoreEndpoint;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * The MIT 6.824 shard controller scenarios (Lab 4A) that concern the controller's state machine,
 * by name, on 16384 slots: basic join/leave, historical queries, move, minimal transfers after
 * joins and leaves, multi-group join/leave and minimal transfers after multi-joins and
 * multi-leaves. (Concurrent join/leave and "the same configuration on every replica" need the
 * controller's Raft group and run against it.) Unlike 6.824, a cluster starts with one group,
 * its bootstrap layout.
 */
class ShardControllerTest {

    private final ShardController controller = new ShardController(SlotLayout.evenSplit(1, 1, List.of(1L, 2L, 3L), 3));

    @Test
    void basicJoinLeave() {
        Layout c2 = ok(join(2));
        check(c2, 1, 2);
        Layout c3 = ok(join(3));
        check(c3, 1, 2, 3);
        Layout c4 = ok(leave(1));
        check(c4, 2, 3);
        assertEquals(4, c4.getVersion());
        // Refusals change nothing.
        assertTrue(refused(join(2)).contains("already in configuration 4"));
        assertTrue(refused(leave(9)).contains("group 9 is not in configuration 4"));
        assertTrue(refused(leave(2, 3)).contains("the last data groups cannot leave"));
        assertTrue(refused(ControllerCommand.newBuilder().setJoin(JoinGroups.newBuilder()
                .addGroups(GroupReplicas.newBuilder().setGroupId(5).addStoreIds(1).addStoreIds(1))).build())
                .contains("distinct"));
        assertTrue(refused(ControllerCommand.newBuilder().setJoin(JoinGroups.newBuilder()
                .addGroups(GroupReplicas.newBuilder().setGroupId(0).addStoreIds(1))).build()).contains("group 0"));
        assertTrue(refused(ControllerCommand.getDefaultInstance()).contains("empty"));
        assertEquals(4, controller.latest().version());
    }

    @Test
    void historicalQueries() {
        List<Layout> made = new ArrayList<>();
        made.add(ok(query(1)));
        for (long g = 2; g <= 6; g++) {
            made.add(ok(join(g)));
        }
        made.add(ok(leave(3)));
        made.add(ok(move(0, 99, 5)));
        for (Layout config : made) {
            assertEquals(config, ok(query(config.getVersion())), "configuration " + config.getVersion());
        }
        assertEquals(made.getLast(), ok(query(-1)));
        assertEquals(made.getLast(), ok(query(1_000)));
        assertTrue(refused(query(0)).contains("start at 1"));
    }

    @Test
    void move() {
        ok(join(2));
        Layout before = ok(query(-1));
        long[] owners = owners(before);
        // Move single slots and a range to the group that does not own them; nothing else changes.
        int[] slots = {0, 1, 8191, 8192, 16383};
        for (int slot : slots) {
            long to = owners[slot] == 1 ? 2 : 1;
            Layout after = ok(move(slot, slot, to));
            long[] now = owners(after);
            assertEquals(to, now[slot]);
            owners[slot] = to;
            assertEquals(0, SlotBalancer.moves(owners, now), "only slot " + slot + " moved");
        }
        Layout ranged = ok(move(100, 4_000, 2));
        for (int slot = 100; slot <= 4_000; slot++) {
            assertEquals(2, owners(ranged)[slot]);
        }
        assertTrue(refused(move(5, 4, 2)).contains("not within"));
        assertTrue(refused(move(0, Slots.SLOT_COUNT, 2)).contains("not within"));
        assertTrue(refused(move(0, 0, 7)).contains("group 7 is not in configuration"));
        // A group a Move emptied stays in the configuration and gets slots again at the next Join.
        Layout emptied = ok(move(0, Slots.SLOT_COUNT - 1, 2));
        assertTrue(ShardController.groupsOf(emptied).contains(1L));
        check(ok(join(3)), 1, 2, 3);
    }

    @Test
    void minimalTransfersAfterJoins() {
        for (long g = 2; g <= 10; g++) {
            ok(join(g));
        }
        long[] before = owners(ok(query(-1)));
        for (long g = 11; g <= 15; g++) {
            long[] previous = owners(ok(query(-1)));
            long[] after = owners(ok(join(g)));
            for (int slot = 0; slot < Slots.SLOT_COUNT; slot++) {
                if (after[slot] != previous[slot]) {
                    assertEquals(g, after[slot], "slot " + slot + " moved to an old group on the join of " + g);
                }
            }
        }
        check(ok(query(-1)), LongStream.rangeClosed(1, 15).toArray());
        // From 10 to 15 groups the new groups need 5 * floor(16384 / 15) or a slot more each: nothing else moved.
        int moved = SlotBalancer.moves(before, owners(ok(query(-1))));
        assertTrue(moved <= 5 * (Slots.SLOT_COUNT / 15 + 1), "moved " + moved);
    }

    @Test
    void minimalTransfersAfterLeaves() {
        for (long g = 2; g <= 15; g++) {
            ok(join(g));
        }
        for (long g = 1; g <= 5; g++) {
            long[] previous = owners(ok(query(-1)));
            long[] after = owners(ok(leave(g)));
            for (int slot = 0; slot < Slots.SLOT_COUNT; slot++) {
                if (after[slot] != previous[slot]) {
                    assertEquals(g, previous[slot], "slot " + slot + " of a staying group moved on the leave of " + g);
                }
            }
        }
        check(ok(query(-1)), LongStream.rangeClosed(6, 15).toArray());
    }

    @Test
    void multiGroupJoinLeave() {
        Layout joined = ok(join(2, 3, 4, 5));
        check(joined, 1, 2, 3, 4, 5);
        Layout left = ok(leave(2, 4));
        check(left, 1, 3, 5);
        assertEquals(joined.getVersion() + 1, left.getVersion());
    }

    @Test
    void minimalTransfersAfterMultiJoins() {
        ok(join(2, 3, 4, 5, 6, 7, 8, 9, 10));
        long[] previous = owners(ok(query(-1)));
        long[] after = owners(ok(join(11, 12, 13, 14, 15)));
        for (int slot = 0; slot < Slots.SLOT_COUNT; slot++) {
            if (after[slot] != previous[slot]) {
                assertTrue(after[slot] >= 11, "slot " + slot + " moved to old group " + after[slot]);
            }
        }
        check(ok(query(-1)), LongStream.rangeClosed(1, 15).toArray());
    }

    @Test
    void minimalTransfersAfterMultiLeaves() {
        ok(join(2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
        long[] previous = owners(ok(query(-1)));
        long[] after = owners(ok(leave(1, 2, 3, 4, 5)));
        for (int slot = 0; slot < Slots.SLOT_COUNT; slot++) {
            if (after[slot] != previous[slot]) {
                assertTrue(previous[slot] <= 5, "slot " + slot + " of staying group " + previous[slot] + " moved");
            }
        }
        check(ok(query(-1)), LongStream.rangeClosed(6, 15).toArray());
    }

    @Test
    void randomJoinsAndLeavesStayBalancedAndSurviveASnapshot() {
        SplittableRandom random = new SplittableRandom(20261206);
        List<Long> live = new ArrayList<>(List.of(1L));
        long nextGroup = 2;
        for (int step = 0; step < 200; step++) {
            if (live.size() > 1 && random.nextBoolean()) {
                long leaving = live.remove(random.nextInt(live.size()));
                ok(leave(leaving));
            } else {
                ok(join(nextGroup));
                live.add(nextGroup++);
            }
            check(ok(query(-1)), live.stream().mapToLong(Long::longValue).sorted().toArray());
        }
        ShardController copy = ShardController.restore(controller.snapshot());
        assertEquals(controller.latest(), copy.latest());
        assertEquals(controller.snapshot(), copy.snapshot());
    }

    @Test
    void theHistoryIsBounded() {
        for (int i = 0; i < ShardController.MAX_RETAINED_CONFIGS + 10; i++) {
            ok(move(0, 0, 1));
        }
        long latest = controller.latest().version();
        assertEquals(latest - ShardController.MAX_RETAINED_CONFIGS + 1, controller.oldestRetained());
        assertTrue(refused(query(5)).contains("was discarded"));
        assertEquals(controller.snapshot().getConfigsCount(), ShardController.MAX_RETAINED_CONFIGS);
        assertFalse(ShardController.restore(controller.snapshot()).latest().version() != latest);
    }

    @Test
    void replaceReplicaMovesOneStoreInPlaceAndNoSlot() {
        ok(join(2));
        Layout before = ok(query(-1));
        Layout moved = ok(replace(2, 2, 4));
        SlotLayout layout = SlotLayout.fromProto(moved);
        assertEquals(before.getVersion() + 1, moved.getVersion());
        assertEquals(List.of(1L, 4L, 3L), layout.replicas(2));
        assertEquals(1, layout.replicaChanges(2));
        assertEquals(0, layout.replicaChanges(1));
        assertEquals(List.of(1L, 2L, 3L), layout.replicas(1));
        assertArrayEquals(owners(before), owners(moved), "a replica move moved slots");
        // The count survives other commands and a snapshot, and grows with each move.
        ok(join(3));
        ok(move(0, 9, 3));
        Layout again = ok(replace(2, 1, 5));
        assertEquals(List.of(5L, 4L, 3L), SlotLayout.fromProto(again).replicas(2));
        assertEquals(2, SlotLayout.fromProto(again).replicaChanges(2));
        assertEquals(SlotLayout.fromProto(again), ShardController.restore(controller.snapshot()).latest());
        // A group that leaves and joins again starts afresh.
        ok(leave(2));
        assertEquals(0, SlotLayout.fromProto(ok(join(2))).replicaChanges(2));
    }

    @Test
    void badReplicaMovesAreRefusedAndChangeNothing() {
        ok(join(2));
        assertTrue(refused(replace(9, 1, 4)).contains("group 9 is not in configuration 2"));
        assertTrue(refused(replace(2, 4, 5)).contains("store 4 hosts no replica of group 2 (its stores: [1, 2, 3])"));
        assertTrue(refused(replace(2, 1, 3)).contains("store 3 already hosts a replica of group 2"));
        assertTrue(refused(replace(2, 1, 1)).contains("to the same store changes nothing"));
        assertTrue(refused(replace(2, 1, 0)).contains("store ids must be positive"));
        assertTrue(refused(replace(0, 1, 4)).contains("configuration 2 does not list the shard controller's stores"));
        assertEquals(0, controller.latest().replicaChanges(2));
    }

    /**
     * Group 0's replicas move like a data group's once the configurations list them (configuration
     * 1 of a cluster does): one store replaced in place, the count of moves up by one, carried on by
     * every later command and through a snapshot, and an added store that hosts the controller
     * cannot be forgotten.
     */
    @Test
    void theControllersOwnReplicaMovesWhenConfigurationsListItsStores() {
        ShardController listed = new ShardController(SlotLayout.evenSplit(1, 1, List.of(1L, 2L, 3L), 3)
                .withController(List.of(1L, 2L, 3L), 0));
        ControllerReply added = listed.apply(addStore(4, "10.0.0.4:7401", "10.0.0.4:7501"));
        assertEquals("", added.getError());
        Layout before = added.getConfig();
        ControllerReply moved = listed.apply(replace(0, 2, 4));
        assertEquals("", moved.getError());
        SlotLayout layout = SlotLayout.fromProto(moved.getConfig());
        assertEquals(List.of(1L, 4L, 3L), layout.controllerStores());
        assertEquals(List.of(1L, 4L, 3L), layout.replicas(0));
        assertEquals(1, layout.replicaChanges(0));
        assertEquals(0, layout.replicaChanges(1), "a data group's count moved");
        assertEquals(List.of(1L, 2L, 3L), layout.replicas(1));
        assertArrayEquals(owners(before), owners(moved.getConfig()), "a controller move moved slots");
        assertEquals(List.of(1L, 2L, 3L), SlotLayout.fromProto(before).controllerStores());

        assertTrue(listed.apply(replace(0, 2, 5)).getError().contains("store 2 hosts no replica of group 0 (its stores: [1, 4, 3])"));
        assertTrue(listed.apply(replace(0, 1, 3)).getError().contains("store 3 already hosts a replica of group 0"));
        assertTrue(listed.apply(forget(4)).getError().contains("store 4 still hosts replicas of groups [0]"));
        assertEquals(moved.getConfig().getVersion(), listed.latest().version(), "a refusal made a configuration");

        // Carried on by later commands and a snapshot; a second move counts again.
        assertEquals("", listed.apply(join(2)).getError());
        assertEquals(List.of(1L, 4L, 3L), listed.latest().controllerStores());
        SlotLayout back = SlotLayout.fromProto(listed.apply(replace(0, 4, 2)).getConfig());
        assertEquals(List.of(1L, 2L, 3L), back.controllerStores());
        assertEquals(2, back.replicaChanges(0));
        assertEquals(back, ShardController.restore(listed.snapshot()).latest());
        assertEquals("", listed.apply(forget(4)).getError());
        // A historical query shows where the controller was then.
        assertEquals(List.of(1L, 4L, 3L), SlotLayout.fromProto(listed.query(moved.getConfig().getVersion())).controllerStores());
    }

    @Test
    void addStoreListsItInEveryLaterConfigurationAndMovesNothing() {
        ok(join(2));
        Layout before = ok(query(-1));
        Layout added = ok(addStore(4, "10.0.0.4:7401", "10.0.0.4:7501"));
        SlotLayout layout = SlotLayout.fromProto(added);
        assertEquals(before.getVersion() + 1, added.getVersion());
        assertArrayEquals(owners(before), owners(added), "adding a store moved slots");
        assertEquals(List.of(1L, 2L, 3L), layout.replicas(2));
        assertEquals("10.0.0.4:7401", layout.addedStores().get(4).orElseThrow().getClientAddress());
        // Carried on by every later command, listed by id, and through a snapshot.
        ok(addStore(5, "store5.example:7401", "store5.example:7501"));
        ok(join(3));
        Layout placed = ok(replace(3, 1, 4));
        SlotLayout last = SlotLayout.fromProto(placed);
        assertEquals(List.of(4L, 5L), last.addedStores().all().stream().map(StoreEndpoint::getStoreId).toList());
        assertEquals(List.of(4L, 2L, 3L), last.replicas(3));
        assertEquals(last, ShardController.restore(controller.snapshot()).latest());
        // A historical query shows the list as it was then.
        assertTrue(SlotLayout.fromProto(ok(query(before.getVersion()))).addedStores().isEmpty());
    }

    @Test
    void badStoreAdditionsAreRefusedAndChangeNothing() {
        ok(addStore(4, "10.0.0.4:7401", "10.0.0.4:7501"));
        assertTrue(refused(addStore(4, "10.0.0.9:7401", "10.0.0.9:7501")).contains("store 4 was added already"));
        assertTrue(refused(addStore(0, "10.0.0.4:7401", "10.0.0.4:7501")).contains("store ids must be positive"));
        assertTrue(refused(addStore(6, "10.0.0.6", "10.0.0.6:7501")).contains("client address '10.0.0.6' is not host:port"));
        assertTrue(refused(addStore(6, "10.0.0.6:7401", "10.0.0.6:70000")).contains("has port '70000', not 1..65535"));
        assertTrue(refused(addStore(6, "10.0.0.6:7401", "")).contains("peer address '' must be 1.."));
        assertTrue(refused(addStore(6, "bad host:7401", "h:1")).contains("contains a space"));
        assertTrue(refused(ControllerCommand.newBuilder().setAddStore(AddStore.getDefaultInstance()).build())
                .contains("names the store and its addresses"));
        assertEquals(1, controller.latest().addedStores().all().size());
    }

    @Test
    void forgetStoreDropsAnAddedStoreNoGroupListsAndMovesNothing() {
        ok(join(2));
        Layout added = ok(addStore(4, "10.0.0.4:7401", "10.0.0.4:7501"));
        ok(addStore(5, "10.0.0.5:7401", "10.0.0.5:7501"));
        assertEquals(added.getVersion(), controller.latest().addedStores().get(4).orElseThrow().getAddedIn(),
                "an added store is stamped with the configuration that added it");
        Layout before = ok(query(-1));
        Layout forgotten = ok(forget(4));
        SlotLayout layout = SlotLayout.fromProto(forgotten);
        assertEquals(before.getVersion() + 1, forgotten.getVersion());
        assertArrayEquals(owners(before), owners(forgotten), "forgetting a store moved slots");
        assertEquals(List.of(1L, 2L, 3L), layout.replicas(2));
        assertEquals(List.of(5L), layout.addedStores().all().stream().map(StoreEndpoint::getStoreId).toList());
        assertEquals(List.of(4L), layout.addedStores().forgotten());
        // Carried on by later commands, so a store that missed the forgetting still drops store 4.
        ok(join(3));
        assertEquals(List.of(4L), controller.latest().addedStores().forgotten());
    }

    @Test
    void forgettingAStoreAGroupListsAnInitialStoreOrAnUnknownOneIsRefusedAndChangesNothing() {
        ok(join(2));
        ok(addStore(4, "10.0.0.4:7401", "10.0.0.4:7501"));
        ok(replace(2, 3, 4));
        SlotLayout before = controller.latest();
        assertTrue(refused(forget(4)).contains("store 4 still hosts replicas of groups [2] in configuration 4"));
        assertTrue(refused(forget(1)).contains("store 1 is not an added store"));
        assertTrue(refused(forget(9)).contains("store 9 is not an added store (the stores the cluster was created with are fixed;"
                + " added stores: [4])"));
        assertTrue(refused(forget(0)).contains("store 0 is not an added store"));
        ok(replace(2, 4, 3));
        ok(forget(4));
        assertTrue(refused(forget(4)).contains("store 4 was forgotten already"));
        assertEquals(List.of(4L), controller.latest().addedStores().forgotten());
        // Every refusal above left the configuration as it was (checked by refused()); the one
        // before the moves still lists store 4 as added.
        assertTrue(before.addedStores().get(4).isPresent());
    }

    @Test
    void aForgottenStoreCanBeAddedAgainAsAnotherStore() {
        Layout first = ok(addStore(4, "10.0.0.4:7401", "10.0.0.4:7501"));
        ok(forget(4));
        Layout again = ok(addStore(4, "10.0.0.14:7401", "10.0.0.14:7501"));
        SlotLayout layout = SlotLayout.fromProto(again);
        StoreEndpoint listed = layout.addedStores().get(4).orElseThrow();
        assertEquals("10.0.0.14:7401", listed.getClientAddress());
        assertEquals(again.getVersion(), listed.getAddedIn());
        assertTrue(listed.getAddedIn() > first.getVersion(), "the store added again must be told apart from the first one");
        assertEquals(List.of(), layout.addedStores().forgotten(), "an id added again is no longer forgotten");
        assertTrue(refused(addStore(4, "10.0.0.24:7401", "10.0.0.24:7501")).contains("store 4 was added already"));
        ok(forget(4));
    }

    @Test
    void forgottenStoresSurviveASnapshotAndHistoricalQueriesShowWhatWasCurrent() {
        ok(join(2));
        Layout added = ok(addStore(4, "10.0.0.4:7401", "10.0.0.4:7501"));
        ok(replace(2, 1, 4));
        ok(replace(2, 4, 1));
        Layout forgotten = ok(forget(4));
        Layout readded = ok(addStore(4, "10.0.0.14:7401", "10.0.0.14:7501"));
        ok(forget(4));
        ok(addStore(6, "10.0.0.6:7401", "10.0.0.6:7501"));
        ShardController copy = ShardController.restore(controller.snapshot());
        assertEquals(controller.latest(), copy.latest());
        assertEquals(List.of(4L), copy.latest().addedStores().forgotten());
        assertEquals(List.of(6L), copy.latest().addedStores().all().stream().map(StoreEndpoint::getStoreId).toList());
        // Query(n) on the restored copy returns each configuration as it was made.
        for (Layout then : List.of(added, forgotten, readded)) {
            ControllerReply reply = copy.apply(query(then.getVersion()));
            assertEquals(then, reply.getConfig());
        }
        SlotLayout atAdd = SlotLayout.fromProto(added);
        assertEquals("10.0.0.4:7401", atAdd.addedStores().get(4).orElseThrow().getClientAddress());
        assertEquals(List.of(), atAdd.addedStores().forgotten());
        assertEquals(List.of(4L), SlotLayout.fromProto(forgotten).addedStores().forgotten());
        assertEquals("10.0.0.14:7401", SlotLayout.fromProto(readded).addedStores().get(4).orElseThrow().getClientAddress());
    }

    // ---- helpers ----

    private static ControllerCommand addStore(long id, String clientAddress, String peerAddress) {
        return ControllerCommand.newBuilder().setAddStore(AddStore.newBuilder().setStore(StoreEndpoint.newBuilder()
                .setStoreId(id).setClientAddress(clientAddress).setPeerAddress(peerAddress))).build();
    }

    private static ControllerCommand forget(long id) {
        return ControllerCommand.newBuilder().setForgetStore(ForgetStore.newBuilder().setStoreId(id)).build();
    }

    private static ControllerCommand replace(long group, long from, long to) {
        return ControllerCommand.newBuilder().setReplaceReplica(ReplaceReplica.newBuilder().setGroupId(group)
                .setFromStore(from).setToStore(to)).build();
    }

    private Layout ok(ControllerCommand command) {
        ControllerReply reply = controller.apply(command);
        assertEquals("", reply.getError(), "refused: " + command);
        return reply.getConfig();
    }

    private String refused(ControllerCommand command) {
        long before = controller.latest().version();
        ControllerReply reply = controller.apply(command);
        assertFalse(reply.getError().isEmpty(), "carried out: " + command);
        assertEquals(before, controller.latest().version(), "a refused command made a configuration");
        return reply.getError();
    }

    /** Every slot owned by one of {@code groups}, all of them listed, counts within one of each other. */
    private static void check(Layout config, long... groups) {
        SlotLayout layout = SlotLayout.fromProto(config);
        assertEquals(LongStream.of(groups).boxed().toList(), layout.groups());
        Map<Long, Integer> counts = new HashMap<>();
        for (int slot = 0; slot < Slots.SLOT_COUNT; slot++) {
            counts.merge(layout.groupOf(slot), 1, Integer::sum);
        }
        assertEquals(groups.length, counts.size(), "groups owning slots: " + counts.keySet());
        int min = counts.values().stream().mapToInt(Integer::intValue).min().orElseThrow();
        int max = counts.values().stream().mapToInt(Integer::intValue).max().orElseThrow();
        assertTrue(max - min <= 1, "unbalanced: " + counts);
    }

    private static long[] owners(Layout config) {
        return SlotBalancer.owners(SlotLayout.fromProto(config));
    }

    private static ControllerCommand join(long... groups) {
        JoinGroups.Builder join = JoinGroups.newBuilder();
        for (long g : groups) {
            join.addGroups(GroupReplicas.newBuilder().setGroupId(g).addStoreIds(1).addStoreIds(2).addStoreIds(3));
        }
        return ControllerCommand.newBuilder().setJoin(join).build();
    }

    private static ControllerCommand leave(long... groups) {
        LeaveGroups.Builder leave = LeaveGroups.newBuilder();
        for (long g : groups) {
            leave.addGroupIds(g);
        }
        return ControllerCommand.newBuilder().setLeave(leave).build();
    }

    private static ControllerCommand move(int first, int last, long group) {
        return ControllerCommand.newBuilder()
                .setMove(MoveSlots.newBuilder().setFirst(first).setLast(last).setGroupId(group)).build();
    }

    private static ControllerCommand query(long number) {
        return ControllerCommand.newBuilder().setQuery(QueryConfig.newBuilder().setNumber(number)).build();
    }
}
