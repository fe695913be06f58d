package io.loomkv.net.client;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.KvKeys;
import io.loomkv.core.kv.SlotScan;
import io.loomkv.core.kv.proto.KeyValue;
import io.loomkv.core.kv.proto.Scan;
import io.loomkv.core.kv.proto.ScanResult;
import io.loomkv.core.shard.SlotLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.PriorityQueue;

/**
 * A scan across groups: every group that may hold matching keys is asked for a page after the same
 * point, and the pages are merged in key order. The merged page keeps the first {@code limit}
 * keys; its continuation is the last key returned, so the next page asks every group again from
 * there (a group's keys beyond the merged page are simply asked for again). A prefix that holds a
 * whole hash tag ({@code {...}} with something inside), or a bounded range whose ends share such a
 * prefix, can only match keys of one slot, so only that slot's group is asked.
 */
final class ScanMerge {
    private ScanMerge() {
    }

    /**
     * The groups to ask for {@code scan}: only the group of the slot that a hash tag pins it to,
     * by the rule the groups apply themselves ({@link SlotScan#pinnedSlot}: the prefix, or the
     * common prefix of a bounded range, holds a whole tag); every group otherwise. A group asked
     * for a pinned scan of a slot it does not own refuses it (WRONG_GROUP), so asking all of them
     * would never succeed.
     */
    static List<Long> groupsFor(Scan scan, SlotLayout layout) {
        Optional<Integer> pinned = SlotScan.pinnedSlot(scan);
        if (pinned.isPresent()) {
            return List.of(layout.groupOf(pinned.get()));
        }
        return List.copyOf(layout.groups());
    }

    /** Merges the groups' pages; {@code requestedLimit} 0 means the servers' default, taken as the largest page received. */
    static ScanResult merge(List<ScanResult> pages, int requestedLimit) {
        if (pages.size() == 1) {
            return pages.get(0);
        }
        int limit = requestedLimit;
        if (limit == 0) {
            for (ScanResult page : pages) {
                limit = Math.max(limit, page.getEntriesCount());
            }
        }
        record Cursor(ScanResult page, int index) {
            KeyValue current() {
                return page.getEntries(index);
            }
        }
        PriorityQueue<Cursor> heap = new PriorityQueue<>((a, b) -> KvKeys.compare(a.current().getKey(), b.current().getKey()));
        boolean more = false;
        for (ScanResult page : pages) {
            more |= page.getMore();
            if (page.getEntriesCount() > 0) {
                heap.add(new Cursor(page, 0));
            }
        }
        List<KeyValue> merged = new ArrayList<>(Math.min(limit, 1024));
        while (!heap.isEmpty() && merged.size() < limit) {
            Cursor cursor = heap.poll();
            merged.add(cursor.current());
            if (cursor.index() + 1 < cursor.page().getEntriesCount()) {
                heap.add(new Cursor(cursor.page(), cursor.index() + 1));
            }
        }
        more |= !heap.isEmpty();
        ScanResult.Builder result = ScanResult.newBuilder().addAllEntries(merged);
        if (more && !merged.isEmpty()) {
            ByteString last = merged.get(merged.size() - 1).getKey();
            result.setMore(true).setContinuation(last);
        }
        return result.build();
    }
}
