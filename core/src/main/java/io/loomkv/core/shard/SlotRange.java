package io.loomkv.core.shard;

/**
 * The slots {@code first..last}, both inclusive (the way Redis and operators write slot ranges:
 * {@code 0-5460}).
 */
public record SlotRange(int first, int last) {
    public SlotRange {
        Slots.requireSlot(first);
        Slots.requireSlot(last);
        if (first > last) {
            throw new IllegalArgumentException("slot range " + first + ".." + last + " ends before it starts");
        }
    }

    /** Every slot: 0..16383. */
    public static SlotRange all() {
        return new SlotRange(0, Slots.SLOT_COUNT - 1);
    }

    public static SlotRange single(int slot) {
        return new SlotRange(slot, slot);
    }

    /** Number of slots in the range, at least 1. */
    public int size() {
        return last - first + 1;
    }

    public boolean contains(int slot) {
        return slot >= first && slot <= last;
    }

    @Override
    public String toString() {
        return first == last ? Integer.toString(first) : first + ".." + last;
    }
}
