package io.loomkv.core.kv;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.loomkv.core.shard.Slots;
import java.util.Arrays;

/**
 * The state machine's engine keys: a user key stored under its slot,
 * {@code [slot: 2 bytes, big-endian][user key]}.
 *
 * <p>Why the prefix: in the engine's unsigned byte order all keys of one slot form one
 * contiguous range, {@link #slotStart}..{@link #slotEnd}, so exporting or deleting a slot when it
 * moves to another group is a range operation, and within a slot keys keep their user-key
 * order. Scans across slots merge the per-slot ranges back into user-key order (see
 * {@link SlotScan}).
 */
public final class SlotKeys {

    /** Bytes of the slot prefix. Slots are below 2^14, so the first byte is at most 0x3F. */
    public static final int PREFIX_BYTES = 2;

    private SlotKeys() {}

    /** The engine key of {@code userKey}: its slot, then its bytes. */
    public static byte[] engineKey(ByteString userKey) {
        return inSlot(Slots.slotOf(userKey), userKey);
    }

    /**
     * {@code userBytes} placed in {@code slot}, whether or not they hash there: scans use this for
     * range bounds, which are positions within a slot's range rather than keys.
     */
    public static byte[] inSlot(int slot, ByteString userBytes) {
        Slots.requireSlot(slot);
        byte[] key = new byte[PREFIX_BYTES + userBytes.size()];
        key[0] = (byte) (slot >>> 8);
        key[1] = (byte) slot;
        userBytes.copyTo(key, PREFIX_BYTES);
        return key;
    }

    /** The first engine key of {@code slot} (inclusive). */
    public static byte[] slotStart(int slot) {
        return inSlot(slot, ByteString.EMPTY);
    }

    /**
     * The end of {@code slot}'s engine range (exclusive): the next slot's prefix. For the last
     * slot, 16383, that is 0x4000, which no slot prefix reaches, so every slot has a finite end.
     */
    public static byte[] slotEnd(int slot) {
        Slots.requireSlot(slot);
        int next = slot + 1;
        return new byte[] {(byte) (next >>> 8), (byte) next};
    }

    /** The slot an engine key is stored under, read from its prefix. */
    public static int slotOf(byte[] engineKey) {
        if (engineKey.length < PREFIX_BYTES) {
            throw new IllegalArgumentException("engine key of " + engineKey.length + " bytes has no slot prefix");
        }
        return Slots.requireSlot(((engineKey[0] & 0xFF) << 8) | (engineKey[1] & 0xFF));
    }

    /** The user key of an engine key; shares the array (engine arrays are immutable by contract). */
    public static ByteString userKey(byte[] engineKey) {
        slotOf(engineKey);
        return UnsafeByteOperations.unsafeWrap(engineKey, PREFIX_BYTES, engineKey.length - PREFIX_BYTES);
    }

    /** Bytes of the user key inside an engine key. */
    public static int userKeyBytes(byte[] engineKey) {
        return engineKey.length - PREFIX_BYTES;
    }

    /** Compares the user keys of two engine keys in unsigned byte order, ignoring their slots. */
    public static int compareUserKeys(byte[] a, byte[] b) {
        return Arrays.compareUnsigned(a, PREFIX_BYTES, a.length, b, PREFIX_BYTES, b.length);
    }

    /**
     * Why {@code engineKey} is not a well-formed engine key, or null when it is: a slot prefix
     * within 0..16383, then a non-empty user key that hashes to that slot.
     */
    public static String checkEngineKey(byte[] engineKey) {
        if (engineKey.length <= PREFIX_BYTES) {
            return "engine key of " + engineKey.length + " bytes holds no user key after its slot prefix";
        }
        int prefix = ((engineKey[0] & 0xFF) << 8) | (engineKey[1] & 0xFF);
        if (prefix >= Slots.SLOT_COUNT) {
            return "engine key prefix " + prefix + " is not a slot";
        }
        int slot = Slots.slotOf(userKey(engineKey));
        if (slot != prefix) {
            return "user key hashes to slot " + slot + " but is stored under slot " + prefix;
        }
        return null;
    }
}
