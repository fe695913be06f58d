package io.loomkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.shard.SlotLayout;
import io.loomkv.net.store.proto.GroupView;
import io.loomkv.net.store.proto.LayoutReply;
import io.loomkv.net.store.proto.StoreAddress;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** Who leads each group, from the stores' LAYOUT replies: the rule of {@link GroupTable}. */
class GroupTableTest {
    private static final SlotLayout FOUR_GROUPS = SlotLayout.evenSplit(1, 4, List.of(1L, 2L, 3L), 3);

    /** A store's reply: {@code views[g - 1]} is its {role, leader, applied} of group g. */
    private static LayoutReply reply(long store, SlotLayout layout, String[] roles, long[] leaders, long[] applied) {
        LayoutReply.Builder reply = LayoutReply.newBuilder().setLayout(layout.toProto()).setStoreId(store);
        for (long id = 1; id <= 3; id++) {
            reply.addStores(StoreAddress.newBuilder().setStoreId(id).setClientAddress("127.0.0.1:" + (7000 + id))
                    .setPeerAddress("127.0.0.1:" + (8000 + id)));
        }
        for (int g = 0; g < roles.length; g++) {
            reply.addGroups(GroupView.newBuilder().setGroupId(g + 1).setRole(roles[g]).setLeaderId(leaders[g])
                    .setAppliedIndex(applied[g]));
        }
        return reply.build();
    }

    @Test
    void aGroupIsLedByTheStoreThatSaysSoAndAppliedIsTheLeaders() {
        GroupTable table = GroupTable.of(List.of(
                reply(1, FOUR_GROUPS, new String[] {"LEADER", "FOLLOWER", "FOLLOWER", "FOLLOWER"}, new long[] {1, 2, 3, 0},
                        new long[] {10, 20, 30, 40}),
                reply(2, FOUR_GROUPS, new String[] {"FOLLOWER", "LEADER", "FOLLOWER", "FOLLOWER"}, new long[] {1, 2, 3, 0},
                        new long[] {9, 19, 29, 44})));

        assertEquals(List.of(1L, 2L, 3L, 4L), table.groups().stream().map(GroupTable.Group::id).toList());
        assertEquals(1, table.group(1).leaderId());
        assertEquals(10, table.group(1).appliedIndex(), "the leader's applied index, not the highest seen");
        assertEquals(2, table.group(2).leaderId());
        // Store 3 did not answer: its followers name it, but it leads nothing here.
        assertEquals(0, table.group(3).leaderId());
        assertEquals(30, table.group(3).appliedIndex(), "without a leader: the highest applied index seen");
        assertEquals(List.of(3L, 4L), table.leaderless());
        assertEquals(Map.of(1L, List.of(1L), 2L, List.of(2L)), table.groupsByLeader());
        assertEquals(OptionalLong.of(1), table.busiestLeader(), "equal counts: the lowest store id");
        assertEquals(List.of(1L, 2L, 3L), table.group(4).replicas());
        assertEquals(4096, table.group(4).slots().size());
    }

    @Test
    void twoClaimantsAreToldApartByWhomTheOthersNameAndATieIsUnknown() {
        // Store 1 woke from a pause still believing it leads group 1; stores 2 and 3 elected store 2.
        LayoutReply deposed = reply(1, FOUR_GROUPS, new String[] {"LEADER"}, new long[] {1}, new long[] {5});
        LayoutReply elected = reply(2, FOUR_GROUPS, new String[] {"LEADER"}, new long[] {2}, new long[] {8});
        LayoutReply follower = reply(3, FOUR_GROUPS, new String[] {"FOLLOWER"}, new long[] {2}, new long[] {8});

        assertEquals(2, GroupTable.of(List.of(deposed, elected, follower)).group(1).leaderId());
        assertEquals(0, GroupTable.of(List.of(deposed, elected)).group(1).leaderId(), "one vote each: unknown");
    }

    @Test
    void theControllerIsLeaderlessOnlyWhenAStoreHostsItAndNoneLeadsIt() {
        LayoutReply noController = reply(1, FOUR_GROUPS, new String[] {"LEADER"}, new long[] {1}, new long[] {1});
        assertFalse(GroupTable.of(List.of(noController)).controllerLeaderless(), "no store hosts a controller here");
        LayoutReply follower = noController.toBuilder().addGroups(GroupView.newBuilder().setGroupId(0).setRole("FOLLOWER")).build();
        LayoutReply leader = reply(2, FOUR_GROUPS, new String[] {"FOLLOWER"}, new long[] {1}, new long[] {1}).toBuilder()
                .addGroups(GroupView.newBuilder().setGroupId(0).setRole("LEADER").setLeaderId(2)).build();
        assertTrue(GroupTable.of(List.of(follower)).controllerLeaderless());
        assertFalse(GroupTable.of(List.of(follower, leader)).controllerLeaderless());
        assertEquals(List.of(1L, 2L, 3L, 4L), GroupTable.of(List.of(follower, leader)).groups().stream()
                .map(GroupTable.Group::id).toList(), "group 0 is not a data group of the table");
    }

    @Test
    void theNewestLayoutWinsAndNoReplyIsRefused() {
        SlotLayout newer = SlotLayout.evenSplit(2, 2, List.of(1L, 2L, 3L), 3);
        GroupTable table = GroupTable.of(List.of(
                reply(1, FOUR_GROUPS, new String[] {"LEADER"}, new long[] {1}, new long[] {1}),
                reply(2, newer, new String[] {"FOLLOWER", "LEADER"}, new long[] {1, 2}, new long[] {1, 1})));

        assertEquals(2, table.layout().version());
        assertEquals(2, table.groups().size());
        assertEquals(List.of(), table.leaderless());
        assertThrows(IllegalArgumentException.class, () -> GroupTable.of(List.of()));
        assertThrows(IllegalArgumentException.class, () -> table.group(3));
    }
}
