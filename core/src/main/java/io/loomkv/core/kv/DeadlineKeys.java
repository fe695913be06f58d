package io.loomkv.core.kv;

/**
 * Where the deadlines of keys with a time to live are kept: beside the data, under engine keys
 * that mirror the data key with bit 6 of the first byte set, {@code [0x40 | slot >> 8][slot & 0xFF][user key]},
 * holding the deadline as 8 big-endian bytes of Unix milliseconds (docs/ttl.md).
 *
 * <p>Why a key of its own rather than a header in every value: a key without a deadline costs
 * nothing (no extra byte, no extra lookup while the group has no deadlines at all), values are
 * handed out as the engine stores them, and the data already on disk keeps its format. Why this
 * place: a data key's first byte is at most 0x3F ({@link SlotKeys}), so the deadlines form a
 * space of their own, 0x40..0x7F, that sorts after all data and before the metadata (0xFF,
 * {@link DurableKeys}); a slot's deadlines are again one contiguous range, so a slot move exports
 * and deletes them by range like the data; and snapshots carry them as ordinary entries.
 */
final class DeadlineKeys {
    /** Bit set in the first byte of a deadline key. */
    static final int SPACE_BIT = 0x40;
    /** The first key of the deadline space (inclusive). */
    static final byte[] SPACE_START = {(byte) SPACE_BIT};
    /** The end of the deadline space (exclusive). */
    static final byte[] SPACE_END = {(byte) (SPACE_BIT << 1)};
    /** Bytes of a stored deadline. */
    static final int VALUE_BYTES = Long.BYTES;

    private DeadlineKeys() {}

    /** The deadline key of a data key ({@link SlotKeys}). */
    static byte[] of(byte[] engineKey) {
        byte[] key = engineKey.clone();
        key[0] = (byte) (key[0] | SPACE_BIT);
        return key;
    }

    /** The data key a deadline key belongs to. */
    static byte[] dataKey(byte[] deadlineKey) {
        byte[] key = deadlineKey.clone();
        key[0] = (byte) (key[0] & ~SPACE_BIT);
        return key;
    }

    /** Whether an engine key lies in the deadline space. */
    static boolean isDeadlineKey(byte[] engineKey) {
        return engineKey.length > 0 && (engineKey[0] & 0xC0) == SPACE_BIT;
    }

    /** The first deadline key of {@code slot} (inclusive). */
    static byte[] slotStart(int slot) {
        return of(SlotKeys.slotStart(slot));
    }

    /** The end of {@code slot}'s deadline range (exclusive); the last slot's end is 0x8000. */
    static byte[] slotEnd(int slot) {
        return of(SlotKeys.slotEnd(slot));
    }

    static byte[] encode(long deadlineMillis) {
        if (deadlineMillis <= 0) {
            throw new IllegalArgumentException("a stored deadline is positive, got " + deadlineMillis);
        }
        byte[] bytes = new byte[VALUE_BYTES];
        for (int i = 0; i < VALUE_BYTES; i++) {
            bytes[i] = (byte) (deadlineMillis >>> (8 * (VALUE_BYTES - 1 - i)));
        }
        return bytes;
    }

    /** The deadline a stored value holds, or 0 for null (no deadline). */
    static long decode(byte[] stored) {
        if (stored == null) {
            return 0;
        }
        if (stored.length != VALUE_BYTES) {
            throw new IllegalStateException("a stored deadline has " + stored.length + " bytes, not " + VALUE_BYTES);
        }
        long deadline = 0;
        for (byte b : stored) {
            deadline = (deadline << 8) | (b & 0xFF);
        }
        return deadline;
    }

    /**
     * Why a snapshot entry in the deadline space is malformed, or null when it is well formed: its
     * data key is a well-formed engine key and its value a positive deadline.
     */
    static String checkEntry(byte[] deadlineKey, byte[] value) {
        String malformed = SlotKeys.checkEngineKey(dataKey(deadlineKey));
        if (malformed != null) {
            return "deadline of a malformed key: " + malformed;
        }
        if (value.length != VALUE_BYTES) {
            return "deadline value of " + value.length + " bytes, not " + VALUE_BYTES;
        }
        long deadline = decode(value);
        if (deadline <= 0 || deadline > Deadlines.MAX_DEADLINE_MILLIS) {
            return "deadline " + deadline + " is outside 1.." + Deadlines.MAX_DEADLINE_MILLIS;
        }
        return null;
    }

    /** The slot a deadline key belongs to. */
    static int slotOf(byte[] deadlineKey) {
        return SlotKeys.slotOf(dataKey(deadlineKey));
    }
}
