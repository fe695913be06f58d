package io.loomkv.core.shard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.shard.proto.GroupReplicas;
import io.loomkv.core.shard.proto.Layout;
import io.loomkv.core.shard.proto.SlotRangeAssignment;
import io.loomkv.core.shard.proto.StoreEndpoint;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SlotLayoutTest {

    private static final List<Long> THREE_STORES = List.of(30L, 10L, 20L);

    @ParameterizedTest(name = "{0} groups")
    @ValueSource(ints = {1, 3, 4, 16, 64, 1000, 16384})
    void evenSplitCoversEverySlotOnceWithSharesWithinOne(int groupCount) {
        SlotLayout layout = SlotLayout.evenSplit(1, groupCount, THREE_STORES, 3);
        assertEquals(groupCount, layout.groups().size());
        int[] owned = new int[groupCount + 1];
        for (int slot = 0; slot < Slots.SLOT_COUNT; slot++) {
            long group = layout.groupOf(slot);
            assertTrue(layout.slotsOf(group).contains(slot), "slot " + slot + " of group " + group);
            owned[(int) group]++;
        }
        int smallest = Integer.MAX_VALUE;
        int largest = 0;
        int expectedFirst = 0;
        for (int group = 1; group <= groupCount; group++) {
            SlotSet slots = layout.slotsOf(group);
            assertEquals(owned[group], slots.size());
            assertEquals(1, slots.ranges().size(), "group " + group + " owns one range");
            SlotRange range = slots.ranges().get(0);
            assertEquals(expectedFirst, range.first(), "ranges follow each other");
            assertEquals((long) group * 16384 / groupCount - 1, range.last(), "floor(i * 16384 / N) - 1");
            expectedFirst = range.last() + 1;
            smallest = Math.min(smallest, slots.size());
            largest = Math.max(largest, slots.size());
        }
        assertEquals(16384, expectedFirst);
        assertTrue(largest - smallest <= 1, "shares " + smallest + ".." + largest);
        assertEquals(groupCount, layout.assignments().size());
    }

    @Test
    void evenSplitOfThreeGroupsMatchesTheFormula() {
        SlotLayout layout = SlotLayout.evenSplit(1, 3, THREE_STORES, 1);
        assertEquals(List.of(SlotAssignment.of(0, 5460, 1), SlotAssignment.of(5461, 10921, 2),
                SlotAssignment.of(10922, 16383, 3)), layout.assignments());
        assertEquals(1, layout.groupOf(5460));
        assertEquals(2, layout.groupOf(5461));
        assertEquals(3, layout.groupOf(16383));
    }

    @Test
    void placementOnThreeStoresWrapsAroundTheSortedStores() {
        SlotLayout layout = SlotLayout.evenSplit(1, 4, THREE_STORES, 2);
        assertEquals(List.of(10L, 20L), layout.replicas(1));
        assertEquals(List.of(20L, 30L), layout.replicas(2));
        assertEquals(List.of(30L, 10L), layout.replicas(3));
        assertEquals(List.of(10L, 20L), layout.replicas(4));
    }

    @Test
    void placementOnFiveStoresSpreadsThreeReplicasEvenly() {
        SlotLayout layout = SlotLayout.evenSplit(7, 6, List.of(5L, 4L, 3L, 2L, 1L), 3);
        assertEquals(List.of(1L, 2L, 3L), layout.replicas(1));
        assertEquals(List.of(2L, 3L, 4L), layout.replicas(2));
        assertEquals(List.of(3L, 4L, 5L), layout.replicas(3));
        assertEquals(List.of(4L, 5L, 1L), layout.replicas(4));
        assertEquals(List.of(5L, 1L, 2L), layout.replicas(5));
        assertEquals(List.of(1L, 2L, 3L), layout.replicas(6));
        assertEquals(7, layout.version());
    }

    @Test
    void asManyReplicasAsStoresOrMorePutsEveryGroupOnEveryStore() {
        for (int replicas : new int[] {3, 5}) {
            SlotLayout layout = SlotLayout.evenSplit(1, 4, THREE_STORES, replicas);
            for (long group : layout.groups()) {
                assertEquals(List.of(10L, 20L, 30L), layout.replicas(group));
            }
        }
    }

    @Test
    void evenSplitRefusesBadArguments() {
        assertRefused(() -> SlotLayout.evenSplit(1, 0, THREE_STORES, 1), "group count");
        assertRefused(() -> SlotLayout.evenSplit(1, 16385, THREE_STORES, 1), "group count");
        assertRefused(() -> SlotLayout.evenSplit(1, 4, THREE_STORES, 0), "replicas per group");
        assertRefused(() -> SlotLayout.evenSplit(1, 4, List.of(), 1), "at least one store");
        assertRefused(() -> SlotLayout.evenSplit(1, 4, List.of(1L, 2L, 1L), 1), "distinct");
        assertRefused(() -> SlotLayout.evenSplit(1, 4, List.of(0L, 2L), 1), "positive");
        assertRefused(() -> SlotLayout.evenSplit(0, 4, THREE_STORES, 1), "version");
    }

    @Test
    void protoRoundTripKeepsEverything() throws Exception {
        for (int groups : new int[] {1, 5, 1000}) {
            SlotLayout layout = SlotLayout.evenSplit(42, groups, List.of(1L, 2L, 3L, 4L, 5L), 3);
            Layout proto = layout.toProto();
            assertEquals(groups, proto.getRangesCount());
            assertEquals(layout, SlotLayout.fromProto(proto));
            assertEquals(layout, SlotLayout.fromProto(Layout.parseFrom(proto.toByteArray())));
        }
    }

    @Test
    void scatteredRangesRoundTripAndAdjacentRangesOfAGroupAreMerged() {
        Map<Long, List<Long>> replicas = new LinkedHashMap<>();
        replicas.put(9L, List.of(3L, 1L));
        replicas.put(2L, List.of(2L));
        replicas.put(5L, List.of(4L));
        SlotLayout layout = SlotLayout.of(3, List.of(
                SlotAssignment.of(100, 16383, 9),
                SlotAssignment.of(0, 49, 2),
                SlotAssignment.of(50, 99, 2)), replicas);
        assertEquals(List.of(2L, 5L, 9L), layout.groups());
        assertEquals(List.of(true, true, true, false, false, false),
                LongStream.of(2, 5, 9, 0, 3, 10).mapToObj(layout::hasGroup).toList(), "listed groups only, not group 0");
        assertThrows(UnsupportedOperationException.class, () -> layout.groups().add(4L), "callers share one list");
        assertEquals(SlotSet.empty(), layout.slotsOf(5), "a listed group may own nothing yet");
        assertEquals(List.of(3L, 1L), layout.replicas(9), "replica order is kept");
        Layout proto = layout.toProto();
        assertEquals(List.of(
                SlotRangeAssignment.newBuilder().setFirst(0).setLast(99).setGroupId(2).build(),
                SlotRangeAssignment.newBuilder().setFirst(100).setLast(16383).setGroupId(9).build()),
                proto.getRangesList());
        assertEquals(List.of(2L, 5L, 9L), proto.getGroupsList().stream().map(GroupReplicas::getGroupId).toList());
        assertEquals(layout, SlotLayout.fromProto(proto));
    }

    @Test
    void unknownGroupsAndSlotsAreRefusedByTheAccessors() {
        SlotLayout layout = SlotLayout.evenSplit(1, 4, THREE_STORES, 1);
        assertRefused(() -> layout.slotsOf(5), "group 5 is not in layout version 1");
        assertRefused(() -> layout.replicas(0), "not in layout");
        assertRefused(() -> layout.groupOf(16384), "16384");
    }

    // ------------------------------------------------------------------------------------------
    // Malformed layouts, as they could arrive from the wire or from disk.

    private static Layout.Builder valid() {
        return SlotLayout.evenSplit(5, 2, List.of(1L, 2L, 3L), 2).toProto().toBuilder();
    }

    private static SlotRangeAssignment range(long first, long last, long group) {
        return SlotRangeAssignment.newBuilder().setFirst((int) first).setLast((int) last).setGroupId(group).build();
    }

    private static GroupReplicas group(long id, long... stores) {
        GroupReplicas.Builder group = GroupReplicas.newBuilder().setGroupId(id);
        for (long store : stores) {
            group.addStoreIds(store);
        }
        return group.build();
    }

    private static void assertMalformed(Layout layout, String expectedMessagePart) {
        assertRefused(() -> SlotLayout.fromProto(layout), expectedMessagePart);
    }

    private static void assertRefused(Executable call, String expectedMessagePart) {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, call);
        assertTrue(error.getMessage().contains(expectedMessagePart),
                "message '" + error.getMessage() + "' should mention '" + expectedMessagePart + "'");
    }

    @Test
    void theValidStartingPointParses() {
        assertEquals(2, SlotLayout.fromProto(valid().build()).groups().size());
    }

    @Test
    void badVersionsAreRefused() {
        assertMalformed(valid().setVersion(0).build(), "version must be positive");
        assertMalformed(valid().setVersion(-1).build(), "18446744073709551615");
    }

    @Test
    void slotsNotCoveredExactlyOnceAreRefused() {
        assertMalformed(valid().setRanges(1, range(8192, 16382, 2)).build(), "slots 16383 are not assigned");
        assertMalformed(valid().setRanges(1, range(8000, 16383, 2)).build(), "slot 8000 is assigned twice");
        assertMalformed(valid().clearRanges().build(), "slots 0..16383 are not assigned");
        assertMalformed(valid().clearRanges().addRanges(range(0, 16383, 1)).addRanges(range(0, 16383, 2)).build(),
                "assigned twice");
    }

    @Test
    void slotNumbersOutsideTheSlotSpaceAreRefused() {
        assertMalformed(valid().setRanges(1, range(8192, 16384, 2)).build(), "outside 0..16383");
        assertMalformed(valid().setRanges(1, range(8192, 0xFFFF_FFFFL, 2)).build(), "4294967295");
        assertMalformed(valid().setRanges(1, range(16383, 8192, 2)).build(), "ends before it starts");
    }

    @Test
    void tooManyRangesOrGroupsAreRefusedBeforeAnyWork() {
        Layout.Builder ranges = valid().clearRanges();
        for (int i = 0; i <= Slots.SLOT_COUNT; i++) {
            ranges.addRanges(range(0, 0, 1));
        }
        assertMalformed(ranges.build(), "more than there are slots");
        Layout.Builder groups = valid();
        for (int i = 3; i <= SlotLayout.MAX_GROUPS + 1; i++) {
            groups.addGroups(group(i, 1));
        }
        assertMalformed(groups.build(), "groups, over 16384");
    }

    @Test
    void groupZeroMayNotOwnSlotsOrBeListed() {
        assertMalformed(valid().setRanges(0, range(0, 8191, 0)).build(), "reserved for the shard controller");
        assertMalformed(valid().addGroups(group(0, 1)).build(), "group 0 is reserved");
    }

    @Test
    void theControllersStoresRoundTripAndAreCheckedLikeAGroupsReplicas() throws Exception {
        SlotLayout listed = SlotLayout.fromProto(valid().build()).withController(List.of(3L, 1L, 2L), 2);
        assertEquals(List.of(3L, 1L, 2L), listed.controllerStores());
        assertEquals(List.of(3L, 1L, 2L), listed.replicas(GroupIds.CONTROLLER_GROUP_ID));
        assertEquals(2, listed.replicaChanges(GroupIds.CONTROLLER_GROUP_ID));
        assertEquals(listed, SlotLayout.fromProto(Layout.parseFrom(listed.toProto().toByteArray())));
        assertNotEquals(listed, listed.withController(List.of(3L, 1L, 2L), 3));
        assertNotEquals(listed, SlotLayout.fromProto(valid().build()), "a layout without the list is another layout");
        assertEquals(List.of(), SlotLayout.fromProto(valid().build()).controllerStores());
        assertRefused(() -> SlotLayout.fromProto(valid().build()).replicas(GroupIds.CONTROLLER_GROUP_ID), "group 0 is not in layout");
        GroupReplicas.Builder controller = GroupReplicas.newBuilder().setGroupId(0);
        assertMalformed(valid().setController(controller.clone()).build(), "group 0 has no replicas");
        assertMalformed(valid().setController(controller.clone().addStoreIds(1).addStoreIds(1)).build(), "names store 1 twice");
        assertMalformed(valid().setController(controller.clone().setGroupId(2).addStoreIds(1)).build(),
                "lists group 2 as the shard controller's");
        GroupReplicas.Builder eight = controller.clone();
        LongStream.rangeClosed(1, 8).forEach(eight::addStoreIds);
        assertMalformed(valid().setController(eight).build(), "at most 7 replicas");
    }

    @Test
    void groupIdsBeyondTheSessionIdSpaceAreRefused() {
        long tooLarge = GroupIds.MAX_DATA_GROUP_ID + 1;
        assertMalformed(valid().setRanges(0, range(0, 8191, tooLarge)).addGroups(group(tooLarge, 1)).build(),
                "outside 1..8388607");
        assertMalformed(valid().addGroups(group(-1, 1)).build(), "18446744073709551615");
    }

    @Test
    void replicasMustBeListedNonEmptyPositiveAndDistinct() {
        assertMalformed(valid().removeGroups(1).build(), "group 2 owns slots 8192..16383 but has no replicas listed");
        assertMalformed(valid().setGroups(1, group(2)).build(), "group 2 has no replicas");
        assertMalformed(valid().setGroups(1, group(2, 1, 1)).build(), "names store 1 twice");
        assertMalformed(valid().setGroups(1, group(2, 0)).build(), "store id 0");
        assertMalformed(valid().setGroups(1, group(2, -5)).build(), "must be positive");
        assertMalformed(valid().addGroups(group(2, 3)).build(), "group 2 is listed twice");
    }

    @Test
    void forgottenStoresRoundTripAndMustBePositiveDistinctAndNotListedAsAdded() {
        StoreEndpoint four = StoreEndpoint.newBuilder().setStoreId(4).setClientAddress("h:1").setPeerAddress("h:2").setAddedIn(2).build();
        Layout layout = valid().addAddedStores(four).addForgottenStoreIds(7).addForgottenStoreIds(5).build();
        SlotLayout parsed = SlotLayout.fromProto(layout);
        assertEquals(List.of(5L, 7L), parsed.addedStores().forgotten());
        assertEquals(parsed, SlotLayout.fromProto(parsed.toProto()));
        assertEquals(List.of(5L, 7L), parsed.toProto().getForgottenStoreIdsList());
        assertMalformed(valid().addAddedStores(four).addForgottenStoreIds(4).build(), "forgotten store 4 is also listed as added");
        assertMalformed(valid().addForgottenStoreIds(5).addForgottenStoreIds(5).build(), "forgotten store 5 is listed twice");
        assertMalformed(valid().addForgottenStoreIds(0).build(), "forgotten store 0 is not a store id");
    }
}
