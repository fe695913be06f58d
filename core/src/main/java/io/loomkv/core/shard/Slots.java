package io.loomkv.core.shard;

import com.google.protobuf.ByteString;
import java.util.Optional;

/**
 * Key to slot, exactly as Redis Cluster's {@code keyHashSlot} (redis/src/cluster.c), so a later
 * RESP cluster mode is routable by stock cluster clients: CRC16/XMODEM of the key modulo
 * {@link #SLOT_COUNT}, where a key holding a hash tag hashes only the tag.
 *
 * <p>The hash tag is found the way Redis finds it: take the first {@code '{'}; if a {@code '}'}
 * follows it with at least one byte in between, only the bytes between that {@code '{'} and the
 * first such {@code '}'} are hashed. Otherwise (no {@code '{'}, no {@code '}'} after it, or
 * {@code "{}"}) the whole key is hashed; a later {@code '{'} never gets a second chance, so
 * {@code "foo{}{bar}"} hashes whole. Keys sharing a tag share a slot, which is how a client gets
 * atomic multi-key writes across keys.
 *
 * <p>Allocation-free and table-driven: one table lookup per key byte.
 */
public final class Slots {

    /** Number of slots; Redis Cluster's 2^14, kept so that slot numbers match Redis. */
    public static final int SLOT_COUNT = 16384;

    private static final int SLOT_MASK = SLOT_COUNT - 1;
    private static final int POLYNOMIAL = 0x1021;
    private static final char[] CRC_TABLE = crcTable();

    private Slots() {}

    /** The slot of {@code key}, in 0..16383. */
    public static int slotOf(byte[] key) {
        int open = indexOf(key, 0, '{');
        if (open >= 0) {
            int close = indexOf(key, open + 1, '}');
            if (close > open + 1) {
                return crc16(key, open + 1, close) & SLOT_MASK;
            }
        }
        return crc16(key, 0, key.length) & SLOT_MASK;
    }

    /** The slot of {@code key}, in 0..16383; the same as {@link #slotOf(byte[])} on its bytes. */
    public static int slotOf(ByteString key) {
        int open = indexOf(key, 0, '{');
        if (open >= 0) {
            int close = indexOf(key, open + 1, '}');
            if (close > open + 1) {
                return crc16(key, open + 1, close) & SLOT_MASK;
            }
        }
        return crc16(key, 0, key.size()) & SLOT_MASK;
    }

    /**
     * The hash tag that decides {@code key}'s slot, or empty when the whole key is hashed. Every
     * key that starts with {@code key}'s first {@link HashTag#closedLengthBytes()} bytes has the
     * same tag and so the same slot: scans use this to read one slot instead of all of them.
     */
    public static Optional<HashTag> hashTag(ByteString key) {
        int open = indexOf(key, 0, '{');
        if (open < 0) {
            return Optional.empty();
        }
        int close = indexOf(key, open + 1, '}');
        if (close <= open + 1) {
            return Optional.empty();
        }
        return Optional.of(new HashTag(open + 1, close - open - 1));
    }

    /** CRC16/XMODEM (polynomial 0x1021, initial value 0, no reflection, no final xor) of {@code bytes}. */
    public static int crc16(byte[] bytes) {
        return crc16(bytes, 0, bytes.length);
    }

    /** Checks that {@code slot} is in 0..16383; returns it. */
    public static int requireSlot(int slot) {
        if (slot < 0 || slot >= SLOT_COUNT) {
            throw new IllegalArgumentException("slot " + slot + " is outside 0.." + (SLOT_COUNT - 1));
        }
        return slot;
    }

    private static int crc16(byte[] bytes, int from, int to) {
        int crc = 0;
        for (int i = from; i < to; i++) {
            crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 8) ^ bytes[i]) & 0xFF]) & 0xFFFF;
        }
        return crc;
    }

    private static int crc16(ByteString bytes, int from, int to) {
        int crc = 0;
        for (int i = from; i < to; i++) {
            crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 8) ^ bytes.byteAt(i)) & 0xFF]) & 0xFFFF;
        }
        return crc;
    }

    private static int indexOf(byte[] bytes, int from, char wanted) {
        for (int i = from; i < bytes.length; i++) {
            if (bytes[i] == wanted) {
                return i;
            }
        }
        return -1;
    }

    private static int indexOf(ByteString bytes, int from, char wanted) {
        for (int i = from; i < bytes.size(); i++) {
            if (bytes.byteAt(i) == wanted) {
                return i;
            }
        }
        return -1;
    }

    /** The CRC of each single byte value, so the hash takes one lookup per byte instead of eight shifts. */
    private static char[] crcTable() {
        char[] table = new char[256];
        for (int value = 0; value < 256; value++) {
            int crc = value << 8;
            for (int bit = 0; bit < 8; bit++) {
                crc = (crc & 0x8000) != 0 ? (crc << 1) ^ POLYNOMIAL : crc << 1;
            }
            table[value] = (char) (crc & 0xFFFF);
        }
        return table;
    }
}
