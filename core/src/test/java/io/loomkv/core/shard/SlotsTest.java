package io.loomkv.core.shard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Key to slot as Redis Cluster computes it. Every expected number below comes from a published
 * source, named next to it; none was produced by this implementation.
 */
class SlotsTest {

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static int slot(String key) {
        int fromArray = Slots.slotOf(bytes(key));
        assertEquals(fromArray, Slots.slotOf(ByteString.copyFromUtf8(key)), "byte[] and ByteString agree on " + key);
        return fromArray;
    }

    @Test
    void crc16CheckValueIsTheXmodemOne() {
        // The CRC-16/XMODEM check value, quoted in redis/src/crc16.c ("Output for "123456789": 31C3").
        assertEquals(0x31C3, Slots.crc16(bytes("123456789")));
        assertEquals(12739, slot("123456789"), "0x31C3 is below 16384, so it is its own slot");
        assertEquals(0, Slots.crc16(new byte[0]));
    }

    @Test
    void redisDocumentationExamples() {
        // redis.io/commands/cluster-keyslot
        assertEquals(11058, slot("somekey"));
        assertEquals(2515, slot("foo{hash_tag}"));
        assertEquals(2515, slot("bar{hash_tag}"));
        // Dragonfly's CLUSTER KEYSLOT documentation ("the same as in Valkey").
        assertEquals(8106, slot("{user1}.following"));
    }

    @Test
    void clientLibraryTestVectors() {
        // AnyEvent-RipeRedis-Cluster t/03-functions.t
        assertEquals(12182, slot("{foo}bar"));
        assertEquals(8363, slot("foo{}{bar}"));
        // Net-Async-Redis t/hash_slot.t
        assertEquals(10135, slot("full_key"));
        assertEquals(5474, slot("partial.{user}"));
        assertEquals(12062, slot("partial.{}{user}"));
        // lettuce SlotHashTest: the tag is hashed alone.
        assertEquals(0x31C3, slot("key{123456789}a"));
    }

    @Test
    void keysWithTheSameTagShareTheTagsSlot() {
        // The examples of the Redis Cluster specification, "Hash tags".
        assertEquals(slot("user1000"), slot("{user1000}.following"));
        assertEquals(slot("user1000"), slot("{user1000}.followers"));
        assertEquals(slot("bar"), slot("foo{bar}{zap}"), "only the first pair counts");
        assertEquals(slot("{bar"), slot("foo{{bar}}zap"), "the tag runs from the first '{' to the next '}'");
    }

    @Test
    void keysWithoutAUsableTagHashWhole() {
        assertEquals(wholeKeySlot("{}"), slot("{}"));
        assertEquals(wholeKeySlot("{}{x}"), slot("{}{x}"), "an empty first tag is not skipped over");
        assertEquals(wholeKeySlot("foo{"), slot("foo{"));
        assertEquals(wholeKeySlot("foo}"), slot("foo}"));
        assertEquals(wholeKeySlot("}{"), slot("}{"));
        assertEquals(0, slot(""), "the empty key hashes to CRC 0");
    }

    @Test
    void aClosingBraceBeforeTheFirstOpeningOneIsIgnored() {
        assertEquals(slot("bar"), slot("foo}{bar}"));
        assertEquals(slot("b"), slot("}}{b}{c}"));
    }

    @Test
    void binaryKeysAgreeWithABitwiseReference() {
        SplittableRandom random = new SplittableRandom(16384);
        for (int i = 0; i < 2000; i++) {
            byte[] key = new byte[random.nextInt(40)];
            for (int j = 0; j < key.length; j++) {
                // Braces often, and bytes with the top bit set (a signed-byte mistake shows there).
                int dice = random.nextInt(10);
                key[j] = (byte) (dice == 0 ? '{' : dice == 1 ? '}' : random.nextInt(256));
            }
            int expected = referenceSlot(key);
            assertEquals(expected, Slots.slotOf(key), "key " + ByteString.copyFrom(key));
            assertEquals(expected, Slots.slotOf(ByteString.copyFrom(key)));
        }
        byte[] allHigh = {(byte) 0xFF, (byte) 0x80, (byte) 0xFE};
        assertEquals(referenceSlot(allHigh), Slots.slotOf(allHigh));
    }

    @Test
    void slotOfASubstringByteStringUsesOnlyItsBytes() {
        ByteString tail = ByteString.copyFromUtf8("xx{user1000}.following").substring(2);
        assertEquals(slot("user1000"), Slots.slotOf(tail));
    }

    @Test
    void hashTagSpanNamesTheTagAndTheSlotFixingPrefix() {
        assertEquals(Optional.of(new HashTag(4, 8)), Slots.hashTag(ByteString.copyFromUtf8("abc{user1000}.x")));
        assertEquals(13, Slots.hashTag(ByteString.copyFromUtf8("abc{user1000}")).orElseThrow().closedLengthBytes());
        assertEquals(Optional.of(new HashTag(1, 1)), Slots.hashTag(ByteString.copyFromUtf8("{a}")));
        assertEquals(Optional.empty(), Slots.hashTag(ByteString.copyFromUtf8("{}{x}")));
        assertEquals(Optional.empty(), Slots.hashTag(ByteString.copyFromUtf8("foo{")));
        assertEquals(Optional.empty(), Slots.hashTag(ByteString.copyFromUtf8("plain")));
        assertEquals(Optional.empty(), Slots.hashTag(ByteString.EMPTY));
        assertEquals(Optional.of(new HashTag(5, 3)), Slots.hashTag(ByteString.copyFromUtf8("foo}{bar}")));
        assertThrows(IllegalArgumentException.class, () -> new HashTag(0, 1));
        assertThrows(IllegalArgumentException.class, () -> new HashTag(1, 0));
    }

    @Test
    void requireSlotRefusesOutOfRangeSlots() {
        assertEquals(16383, Slots.requireSlot(16383));
        assertEquals(0, Slots.requireSlot(0));
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> Slots.requireSlot(16384));
        assertTrue(error.getMessage().contains("16384"), error.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Slots.requireSlot(-1));
    }

    private static int wholeKeySlot(String key) {
        return referenceCrc16(bytes(key)) % 16384;
    }

    /** keyHashSlot written out from the Redis source, over a bit-at-a-time CRC (no table). */
    private static int referenceSlot(byte[] key) {
        int open = -1;
        for (int i = 0; i < key.length && open < 0; i++) {
            if (key[i] == '{') {
                open = i;
            }
        }
        if (open >= 0) {
            for (int close = open + 1; close < key.length; close++) {
                if (key[close] == '}') {
                    if (close == open + 1) {
                        break;
                    }
                    return referenceCrc16(java.util.Arrays.copyOfRange(key, open + 1, close)) % 16384;
                }
            }
        }
        return referenceCrc16(key) % 16384;
    }

    private static int referenceCrc16(byte[] bytes) {
        int crc = 0;
        for (byte b : bytes) {
            crc ^= (b & 0xFF) << 8;
            for (int bit = 0; bit < 8; bit++) {
                crc = (crc & 0x8000) != 0 ? ((crc << 1) ^ 0x1021) & 0xFFFF : (crc << 1) & 0xFFFF;
            }
        }
        return crc;
    }

    @Test
    void referenceAgreesWithTheCheckValue() {
        assertEquals(0x31C3, referenceCrc16(bytes("123456789")));
    }
}
