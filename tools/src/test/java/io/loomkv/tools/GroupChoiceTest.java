package io.loomkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.shard.SlotLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

class GroupChoiceTest {
    private static final List<Long> STORES = List.of(1L, 2L, 3L);

    @Test
    void noGroupMeansTheOnlyOne() {
        assertEquals(1, GroupChoice.resolve(0, SlotLayout.evenSplit(1, 1, STORES, 3)));
        assertEquals(1, GroupChoice.resolve(1, SlotLayout.evenSplit(1, 1, STORES, 3)));
    }

    @Test
    void aShardedClusterNeedsAGroupItHas() {
        SlotLayout sixteen = SlotLayout.evenSplit(1, 16, STORES, 3);
        assertEquals(7, GroupChoice.resolve(7, sixteen));
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> GroupChoice.resolve(0, sixteen));
        assertTrue(none.getMessage().contains("this cluster has 16 data groups (1-16): name one with --group G"), none.getMessage());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> GroupChoice.resolve(17, sixteen));
        assertEquals("group 17 is not a data group of this cluster (its groups: 1-16)", unknown.getMessage());
        assertThrows(IllegalArgumentException.class, () -> GroupChoice.resolve(-1, sixteen));
    }
}
