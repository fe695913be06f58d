package io.loomkv.core.kv;

import static io.loomkv.core.kv.KvFixture.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.core.engine.Keys;
import io.loomkv.core.shard.Slots;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SlotKeysTest {

    @Test
    void engineKeyIsTheBigEndianSlotThenTheUserKey() {
        // slot("somekey") = 11058 = 0x2B32 (redis.io, CLUSTER KEYSLOT).
        byte[] key = SlotKeys.engineKey(bytes("somekey"));
        assertArrayEquals(new byte[] {0x2B, 0x32, 's', 'o', 'm', 'e', 'k', 'e', 'y'}, key);
        assertEquals(11058, SlotKeys.slotOf(key));
        assertEquals(bytes("somekey"), SlotKeys.userKey(key));
        assertEquals(7, SlotKeys.userKeyBytes(key));
    }

    @Test
    void aSlotIsOneContiguousEngineRangeThatKeepsUserKeyOrder() {
        List<byte[]> inSlot = new ArrayList<>();
        for (String key : new String[] {"x{t}", "{t}", "{t}a", "{t}b", "{t}\u00ff"}) {
            inSlot.add(SlotKeys.engineKey(bytes(key)));
        }
        int slot = Slots.slotOf(bytes("t"));
        for (int i = 0; i < inSlot.size(); i++) {
            byte[] key = inSlot.get(i);
            assertTrue(Keys.compare(SlotKeys.slotStart(slot), key) <= 0);
            assertTrue(Keys.compare(key, SlotKeys.slotEnd(slot)) < 0);
            if (i > 0) {
                assertTrue(Keys.compare(inSlot.get(i - 1), key) < 0, "user-key order kept within the slot");
            }
        }
        assertArrayEquals(SlotKeys.slotStart(slot + 1), SlotKeys.slotEnd(slot));
    }

    @Test
    void theLastSlotHasAFiniteEnd() {
        assertArrayEquals(new byte[] {0x3F, (byte) 0xFF}, SlotKeys.slotStart(16383));
        assertArrayEquals(new byte[] {0x40, 0x00}, SlotKeys.slotEnd(16383));
        assertArrayEquals(new byte[] {0, 0}, SlotKeys.slotStart(0));
    }

    @Test
    void compareUserKeysIgnoresTheSlots() {
        byte[] a = SlotKeys.inSlot(9000, bytes("a"));
        byte[] b = SlotKeys.inSlot(3, bytes("b"));
        assertTrue(Keys.compare(a, b) > 0, "in engine order slot 9000 comes after slot 3");
        assertTrue(SlotKeys.compareUserKeys(a, b) < 0, "but user key a is before b");
        assertEquals(0, SlotKeys.compareUserKeys(a, SlotKeys.inSlot(1, bytes("a"))));
        assertTrue(SlotKeys.compareUserKeys(SlotKeys.inSlot(1, bytes("\u00ff")), b) > 0, "unsigned");
    }

    @Test
    void decodingRefusesKeysWithoutAValidSlotPrefix() {
        assertThrows(IllegalArgumentException.class, () -> SlotKeys.slotOf(new byte[] {1}));
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> SlotKeys.slotOf(new byte[] {0x40, 0, 'a'}));
        assertTrue(error.getMessage().contains("16384"), error.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SlotKeys.userKey(new byte[] {(byte) 0xFF, 0, 'a'}));
        assertThrows(IllegalArgumentException.class, () -> SlotKeys.inSlot(16384, bytes("a")));
        assertThrows(IllegalArgumentException.class, () -> SlotKeys.slotEnd(-1));
    }

    @Test
    void checkEngineKeyNamesWhatIsWrong() {
        assertNull(SlotKeys.checkEngineKey(SlotKeys.engineKey(bytes("k"))));
        assertTrue(SlotKeys.checkEngineKey(new byte[] {0, 1}).contains("holds no user key"));
        assertTrue(SlotKeys.checkEngineKey(new byte[] {0x40, 0, 'k'}).contains("prefix 16384 is not a slot"));
        byte[] misfiled = SlotKeys.inSlot(Slots.slotOf(bytes("k")) ^ 1, bytes("k"));
        assertTrue(SlotKeys.checkEngineKey(misfiled).contains("stored under slot"), SlotKeys.checkEngineKey(misfiled));
        assertEquals(ByteString.EMPTY, SlotKeys.userKey(SlotKeys.slotStart(5)));
    }
}
