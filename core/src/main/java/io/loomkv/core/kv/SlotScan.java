package io.loomkv.core.kv;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.loomkv.core.engine.KeyValue;
import io.loomkv.core.engine.KvEngine;
import io.loomkv.core.engine.ScanPage;
import io.loomkv.core.engine.ScanRequest;
import io.loomkv.core.kv.proto.Scan;
import io.loomkv.core.kv.proto.ScanResult;
import io.loomkv.core.shard.HashTag;
import io.loomkv.core.shard.SlotRange;
import io.loomkv.core.shard.SlotSet;
import io.loomkv.core.shard.Slots;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Optional;
import java.util.PriorityQueue;

/**
 * One page of a scan in user-key order over slot-prefixed engine keys ({@link SlotKeys}).
 *
 * <p>The engine holds each slot's keys as a separate contiguous range, while users expect one
 * ordered key space, so the page is a k-way merge: one cursor per slot that has keys in the
 * scanned range, a heap ordered by each cursor's next user key, and lazy refills of small
 * pages when a cursor runs dry.
 *
 * <p>Cost, per page: the merge must know every slot's first key before it can return anything,
 * so each page starts with a seek into every slot it may read: at most one engine scan per
 * owned slot (16384 for a group owning all slots), fewer when slots are empty, because a seek
 * that finds nothing left in its slot lands on the next slot that has keys and skips the empty
 * ones in between. After the seeks, the merge costs O(log slots) per key returned plus one
 * refill scan each time a cursor's buffered page runs out. Memory: one buffered page per slot
 * with keys in range; pages start at about {@code limit / slots} keys and
 * {@code maxReplyBytes / slots} bytes (always at least one key), and double on each refill.
 * A scan whose prefix or range pins a hash tag reads a single slot and pays none of this (the
 * caller passes that one slot).
 *
 * <p>Public only for {@link #pinnedSlot}: the client asks a pinned scan's one group with the same
 * rule the group applies, so a scan the group serves from one slot is never sent to the others.
 */
public final class SlotScan {
    /**
     * Keys a page may pass over unreturned (expired ones) before it ends early, with the last key
     * passed as its continuation: a scan through many expired keys stays bounded per page.
     */
    static final int MAX_HIDDEN_PER_PAGE = 10_000;

    /** Engine keys a scan passes over (expired keys); checked as each key is merged. */
    @FunctionalInterface
    interface Filter {
        Filter NONE = key -> false;

        boolean hides(byte[] engineKey);
    }

    private final KvEngine engine;
    private final ByteString start;
    /** Exclusive user-key end; empty means unbounded. */
    private final ByteString end;
    private final int limit;
    private final long maxReplyBytes;
    private final int firstPageKeys;
    private final long firstPageBytes;
    private final Filter hidden;
    private final PriorityQueue<Cursor> heap = new PriorityQueue<>(
            (a, b) -> SlotKeys.compareUserKeys(a.head().key(), b.head().key()));

    private SlotScan(KvEngine engine, int slotCount, ByteString start, ByteString end, int limit, long maxReplyBytes,
            Filter hidden) {
        this.engine = engine;
        this.hidden = hidden;
        this.start = start;
        this.end = end;
        this.limit = limit;
        this.maxReplyBytes = maxReplyBytes;
        // One more key than the limit, so a single slot can tell "exactly limit keys" from "more".
        this.firstPageKeys = (int) Math.min(ScanRequest.MAX_LIMIT, 1 + ((long) limit + 1) / slotCount);
        this.firstPageBytes = Math.max(1, maxReplyBytes / slotCount);
    }

    /**
     * The keys of {@code slots} in {@code [start, end)} (an empty {@code end} is unbounded), in
     * user-key order: at most {@code limit} of them, stopping once their keys and values reach
     * {@code maxReplyBytes} (but at least one), passing over the keys {@code hidden} hides. The
     * continuation is the last key returned, or the last one passed over when a page ends after
     * {@link #MAX_HIDDEN_PER_PAGE} of them (such a page may be empty and still say more).
     */
    static ScanResult scan(KvEngine engine, SlotSet slots, ByteString start, ByteString end,
            int limit, long maxReplyBytes, Filter hidden) {
        if (limit < 1 || maxReplyBytes < 1) {
            throw new IllegalArgumentException("scan limit " + limit + " and maxReplyBytes " + maxReplyBytes
                    + " must be positive");
        }
        ScanResult.Builder result = ScanResult.newBuilder();
        if (slots.isEmpty() || (!end.isEmpty() && KvKeys.compare(start, end) >= 0)) {
            return result.build();
        }
        SlotScan scan = new SlotScan(engine, slots.size(), start, end, limit, maxReplyBytes, hidden);
        for (SlotRange range : slots.ranges()) {
            scan.seekRange(range);
        }
        return scan.merge(result);
    }

    /**
     * The one slot holding every key a scan can select, when its selection fixes a hash tag: a
     * prefix that contains a whole tag, or a range whose start and end share a prefix that does.
     * Every key with such a prefix has the same first tag, so the same slot.
     */
    public static Optional<Integer> pinnedSlot(Scan scan) {
        ByteString fixed;
        if (scan.hasPrefix()) {
            fixed = scan.getPrefix();
        } else if (!scan.getRange().getEnd().isEmpty()) {
            fixed = commonPrefix(scan.getRange().getStart(), scan.getRange().getEnd());
        } else {
            return Optional.empty();
        }
        Optional<HashTag> tag = Slots.hashTag(fixed);
        return tag.isPresent() ? Optional.of(Slots.slotOf(fixed)) : Optional.empty();
    }

    private static ByteString commonPrefix(ByteString a, ByteString b) {
        int length = 0;
        int max = Math.min(a.size(), b.size());
        while (length < max && a.byteAt(length) == b.byteAt(length)) {
            length++;
        }
        return a.substring(0, length);
    }

    private ScanResult merge(ScanResult.Builder result) {
        long replyBytes = 0;
        int passedOver = 0;
        ByteString lastSeen = null;
        while (!heap.isEmpty()) {
            if (result.getEntriesCount() >= limit || (result.getEntriesCount() > 0 && replyBytes >= maxReplyBytes)
                    || passedOver >= MAX_HIDDEN_PER_PAGE) {
                // The client resumes strictly after the last key it received (or this page passed over).
                return result.setMore(true).setContinuation(lastSeen).build();
            }
            Cursor cursor = heap.poll();
            KeyValue entry = cursor.buffer.removeFirst();
            lastSeen = SlotKeys.userKey(entry.key());
            if (hidden.hides(entry.key())) {
                passedOver++;
            } else {
                result.addEntries(io.loomkv.core.kv.proto.KeyValue.newBuilder()
                        .setKey(lastSeen)
                        .setValue(UnsafeByteOperations.unsafeWrap(entry.value())));
                replyBytes += SlotKeys.userKeyBytes(entry.key()) + entry.value().length;
            }
            if (!cursor.buffer.isEmpty() || cursor.refill()) {
                heap.add(cursor);
            }
        }
        return result.build();
    }

    /**
     * Opens a cursor for every slot of {@code range} with keys in the scanned range. Each seek
     * reads on past its own slot up to the end of {@code range}, so when the slot has nothing
     * left the page shows the next slot that does.
     */
    private void seekRange(SlotRange range) {
        byte[] rangeEnd = SlotKeys.slotEnd(range.last());
        int slot = range.first();
        while (slot <= range.last()) {
            ScanPage page = engine.scan(new ScanRequest(SlotKeys.inSlot(slot, start), rangeEnd, firstPageKeys,
                    firstPageBytes));
            List<KeyValue> entries = page.entries();
            checkPage(page);
            Cursor cursor = new Cursor(slot, firstPageKeys, firstPageBytes);
            int taken = 0;
            while (taken < entries.size() && SlotKeys.slotOf(entries.get(taken).key()) == slot
                    && inRange(entries.get(taken).key())) {
                cursor.buffer.addLast(entries.get(taken));
                taken++;
            }
            int nextSlot;
            if (taken < entries.size()) {
                // The page left the slot or its range: the slot holds nothing more to read.
                nextSlot = Math.max(slot + 1, firstSlotAfter(entries, taken, slot));
            } else if (page.hasMore()) {
                int continuationSlot = SlotKeys.slotOf(page.continuationKey());
                if (continuationSlot == slot) {
                    cursor.continuation = page.continuationKey();
                }
                nextSlot = Math.max(slot + 1, continuationSlot);
            } else {
                nextSlot = range.last() + 1;
            }
            if (!cursor.buffer.isEmpty()) {
                heap.add(cursor);
            }
            slot = nextSlot;
        }
    }

    /** The slot of the first entry from {@code index} on that is past {@code slot}, or slot + 1 if none is. */
    private static int firstSlotAfter(List<KeyValue> entries, int index, int slot) {
        for (int i = index; i < entries.size(); i++) {
            int entrySlot = SlotKeys.slotOf(entries.get(i).key());
            if (entrySlot > slot) {
                return entrySlot;
            }
        }
        return slot + 1;
    }

    private boolean inRange(byte[] engineKey) {
        return end.isEmpty() || KvKeys.compare(SlotKeys.userKey(engineKey), end) < 0;
    }

    private static void checkPage(ScanPage page) {
        if (page.hasMore() && page.entries().isEmpty()) {
            throw new IllegalStateException("engine returned an empty scan page that claims more keys");
        }
    }

    /** The keys of one slot not yet merged: a buffered page and where the engine goes on. */
    private final class Cursor {
        final int slot;
        final ArrayDeque<KeyValue> buffer = new ArrayDeque<>();
        /** Where the slot's next page starts, or null when the slot has nothing more in range. */
        byte[] continuation;
        int pageKeys;
        long pageBytes;

        Cursor(int slot, int pageKeys, long pageBytes) {
            this.slot = slot;
            this.pageKeys = pageKeys;
            this.pageBytes = pageBytes;
        }

        KeyValue head() {
            return buffer.peekFirst();
        }

        /** Reads the slot's next page into the empty buffer; false when the slot is done. */
        boolean refill() {
            if (!buffer.isEmpty()) {
                throw new IllegalStateException("refill of slot " + slot + " with " + buffer.size() + " keys buffered");
            }
            if (continuation == null) {
                return false;
            }
            pageKeys = (int) Math.min(Math.min(ScanRequest.MAX_LIMIT, (long) limit + 1), 2L * pageKeys);
            pageBytes = Math.min(maxReplyBytes, 2 * pageBytes);
            byte[] slotLimit = end.isEmpty() ? SlotKeys.slotEnd(slot) : SlotKeys.inSlot(slot, end);
            ScanPage page = engine.scan(new ScanRequest(continuation, slotLimit, pageKeys, pageBytes));
            checkPage(page);
            for (KeyValue entry : page.entries()) {
                if (SlotKeys.slotOf(entry.key()) != slot) {
                    throw new IllegalStateException("engine returned a key of slot " + SlotKeys.slotOf(entry.key())
                            + " for a scan of slot " + slot);
                }
                buffer.addLast(entry);
            }
            continuation = page.continuationKey();
            return !buffer.isEmpty();
        }
    }
}
