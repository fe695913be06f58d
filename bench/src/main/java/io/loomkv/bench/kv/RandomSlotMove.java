package io.loomkv.bench.kv;

import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.Slots;
import io.loomkv.core.shard.controller.proto.MoveSlots;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * A random shard controller Move for load and chaos runs: an aligned range of slots to a group
 * that does not own its first slot. Shared by {@code bench kv --move-slots-every} and the chaos
 * faults that move slots.
 */
public final class RandomSlotMove {

    private RandomSlotMove() {}

    /**
     * A range of {@code slotsPerMove} slots (aligned to that size) to another group of
     * {@code layout}; null when the layout has fewer than two groups.
     */
    public static MoveSlots pick(SlotLayout layout, RandomGenerator random, int slotsPerMove) {
        if (slotsPerMove < 1 || slotsPerMove > Slots.SLOT_COUNT) {
            throw new IllegalArgumentException("slots per move must be 1.." + Slots.SLOT_COUNT + ", got " + slotsPerMove);
        }
        List<Long> groups = layout.groups();
        if (groups.size() < 2) {
            return null;
        }
        int first = random.nextInt(Slots.SLOT_COUNT / slotsPerMove) * slotsPerMove;
        int last = Math.min(Slots.SLOT_COUNT - 1, first + slotsPerMove - 1);
        long owner = layout.groupOf(first);
        long target;
        do {
            target = groups.get(random.nextInt(groups.size()));
        } while (target == owner);
        return MoveSlots.newBuilder().setFirst(first).setLast(last).setGroupId(target).build();
    }
}
