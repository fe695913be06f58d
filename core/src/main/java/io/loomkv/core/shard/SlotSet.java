package io.loomkv.core.shard;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.PrimitiveIterator;

/**
 * An immutable set of slots, held as sorted ranges that neither overlap nor touch (adjacent
 * ranges are merged), so one range of 16384 slots and a thousand scattered ranges are both
 * small. {@link #contains} is a binary search over the ranges.
 */
public final class SlotSet {

    private static final SlotSet EMPTY = new SlotSet(new int[0], new int[0]);
    private static final SlotSet ALL = new SlotSet(new int[] {0}, new int[] {Slots.SLOT_COUNT - 1});

    /** Range i is firsts[i]..lasts[i]; both ascending, and firsts[i + 1] > lasts[i] + 1. */
    private final int[] firsts;
    private final int[] lasts;
    private final int size;

    private SlotSet(int[] firsts, int[] lasts) {
        this.firsts = firsts;
        this.lasts = lasts;
        int slots = 0;
        for (int i = 0; i < firsts.length; i++) {
            if (i > 0 && firsts[i] <= lasts[i - 1] + 1) {
                throw new IllegalStateException("slot set ranges " + firsts[i - 1] + ".." + lasts[i - 1] + " and "
                        + firsts[i] + ".." + lasts[i] + " are not sorted, apart and merged");
            }
            slots += lasts[i] - firsts[i] + 1;
        }
        this.size = slots;
    }

    public static SlotSet empty() {
        return EMPTY;
    }

    /** All 16384 slots. */
    public static SlotSet all() {
        return ALL;
    }

    /**
     * The union of {@code ranges}, given in any order. Ranges that overlap are refused (two owners
     * of one slot is the kind of mistake a set must not hide); ranges that touch are merged.
     */
    public static SlotSet of(Collection<SlotRange> ranges) {
        SlotRange[] sorted = ranges.toArray(SlotRange[]::new);
        Arrays.sort(sorted, (a, b) -> Integer.compare(a.first(), b.first()));
        int[] firsts = new int[sorted.length];
        int[] lasts = new int[sorted.length];
        int count = 0;
        for (SlotRange range : sorted) {
            if (count > 0 && range.first() <= lasts[count - 1]) {
                throw new IllegalArgumentException("slot ranges " + firsts[count - 1] + ".." + lasts[count - 1]
                        + " and " + range + " overlap");
            }
            if (count > 0 && range.first() == lasts[count - 1] + 1) {
                lasts[count - 1] = range.last();
            } else {
                firsts[count] = range.first();
                lasts[count] = range.last();
                count++;
            }
        }
        return count == 0 ? EMPTY : new SlotSet(Arrays.copyOf(firsts, count), Arrays.copyOf(lasts, count));
    }

    public static SlotSet of(SlotRange... ranges) {
        return of(Arrays.asList(ranges));
    }

    /** The set of the given slots, in any order; a slot named twice is refused. */
    public static SlotSet ofSlots(int... slots) {
        List<SlotRange> ranges = new ArrayList<>(slots.length);
        for (int slot : slots) {
            ranges.add(SlotRange.single(slot));
        }
        return of(ranges);
    }

    public boolean contains(int slot) {
        int index = Arrays.binarySearch(firsts, slot);
        if (index >= 0) {
            return true;
        }
        int before = -index - 2;
        return before >= 0 && slot <= lasts[before];
    }

    /** Number of slots in the set. */
    public int size() {
        return size;
    }

    public boolean isEmpty() {
        return size == 0;
    }

    /** The ranges, ascending, apart and merged. */
    public List<SlotRange> ranges() {
        List<SlotRange> ranges = new ArrayList<>(firsts.length);
        for (int i = 0; i < firsts.length; i++) {
            ranges.add(new SlotRange(firsts[i], lasts[i]));
        }
        return ranges;
    }

    /** The slots in ascending order. */
    public PrimitiveIterator.OfInt iterator() {
        return new PrimitiveIterator.OfInt() {
            private int range;
            private int next = firsts.length == 0 ? 0 : firsts[0];

            @Override
            public boolean hasNext() {
                return range < firsts.length;
            }

            @Override
            public int nextInt() {
                if (!hasNext()) {
                    throw new NoSuchElementException("no slot after " + lasts[lasts.length - 1]);
                }
                int slot = next;
                if (slot == lasts[range]) {
                    range++;
                    next = range < firsts.length ? firsts[range] : 0;
                } else {
                    next = slot + 1;
                }
                return slot;
            }
        };
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof SlotSet set && Arrays.equals(firsts, set.firsts) && Arrays.equals(lasts, set.lasts);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(firsts) + Arrays.hashCode(lasts);
    }

    /** The ranges, e.g. {@code [0..5460, 10923]}; at most 16 of them, then a count. */
    @Override
    public String toString() {
        StringBuilder out = new StringBuilder("[");
        for (int i = 0; i < Math.min(firsts.length, 16); i++) {
            out.append(i == 0 ? "" : ", ").append(new SlotRange(firsts[i], lasts[i]));
        }
        if (firsts.length > 16) {
            out.append(", ... (").append(firsts.length).append(" ranges, ").append(size).append(" slots)");
        }
        return out.append(']').toString();
    }
}
