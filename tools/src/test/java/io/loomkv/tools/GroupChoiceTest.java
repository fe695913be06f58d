package io.loomkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.shard.GroupIds;
import io.loomkv.core.shard.SlotLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

class GroupChoiceTest {
    private static final List<Long> STORES = List.of(1L, 2L, 3L);

    @Test
    void noGroupMeansTheOnlyDataGroup() {
        assertEquals(1, GroupChoice.resolve(null, SlotLayout.evenSplit(1, 1, STORES, 3)));
        assertEquals(1, GroupChoice.resolve("1", SlotLayout.evenSplit(1, 1, STORES, 3)));
    }

    @Test
    void aShardedClusterNeedsAGroupItHas() {
        SlotLayout sixteen = SlotLayout.evenSplit(1, 16, STORES, 3);
        assertEquals(7, GroupChoice.resolve("7", sixteen));
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> GroupChoice.resolve(null, sixteen));
        assertTrue(none.getMessage().contains("this cluster has 16 data groups (1-16): name one with --group G"), none.getMessage());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> GroupChoice.resolve("17", sixteen));
        assertEquals("group 17 is not a data group of this cluster (its groups: 1-16; --group controller names the shard"
                + " controller)", unknown.getMessage());
        assertThrows(IllegalArgumentException.class, () -> GroupChoice.resolve("-1", sixteen));
        IllegalArgumentException word = assertThrows(IllegalArgumentException.class, () -> GroupChoice.resolve("ctrl", sixteen));
        assertEquals("--group takes a group id or 'controller', not 'ctrl'", word.getMessage());
    }

    @Test
    void controllerOrZeroNamesGroupZeroOnAnyCluster() {
        for (int groups : new int[] {1, 16}) {
            SlotLayout layout = SlotLayout.evenSplit(1, groups, STORES, 3);
            assertEquals(GroupIds.CONTROLLER_GROUP_ID, GroupChoice.resolve("controller", layout));
            assertEquals(GroupIds.CONTROLLER_GROUP_ID, GroupChoice.resolve("Controller", layout));
            assertEquals(GroupIds.CONTROLLER_GROUP_ID, GroupChoice.resolve("0", layout));
        }
    }
}
