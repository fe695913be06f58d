package io.loomkv.tools;

import io.loomkv.core.shard.SlotRange;
import io.loomkv.core.shard.SlotSet;
import java.util.Collection;
import java.util.StringJoiner;

/**
 * Slot sets and id lists the way operators write them: {@code 0-1023}, {@code 0-99,4096-8191},
 * {@code 1-16}. A group of an even split owns one range, so its line stays short however many
 * slots it has.
 */
final class CompactRanges {
    private CompactRanges() {
    }

    /** The slots as comma-separated ranges ({@code first-last}, or one number for a single slot); "none" when empty. */
    static String slots(SlotSet slots) {
        if (slots.isEmpty()) {
            return "none";
        }
        StringJoiner text = new StringJoiner(",");
        for (SlotRange range : slots.ranges()) {
            text.add(range.first() == range.last() ? Integer.toString(range.first()) : range.first() + "-" + range.last());
        }
        return text.toString();
    }

    /** Ids ascending, runs of consecutive ids written {@code first-last}: {@code 1-4,7}. "none" when empty. */
    static String ids(Collection<Long> ids) {
        long[] sorted = ids.stream().mapToLong(Long::longValue).sorted().distinct().toArray();
        if (sorted.length == 0) {
            return "none";
        }
        StringJoiner text = new StringJoiner(",");
        int start = 0;
        for (int i = 1; i <= sorted.length; i++) {
            if (i == sorted.length || sorted[i] != sorted[i - 1] + 1) {
                text.add(i - 1 == start ? Long.toString(sorted[start]) : sorted[start] + "-" + sorted[i - 1]);
                start = i;
            }
        }
        return text.toString();
    }
}
