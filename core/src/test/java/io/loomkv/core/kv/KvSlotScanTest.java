package io.loomkv.core.kv;

import static io.loomkv.core.kv.KvFixture.bytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.KeyRange;
import io.loomkv.core.kv.proto.KeyValue;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.Scan;
import io.loomkv.core.kv.proto.ScanResult;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.core.shard.SlotRange;
import io.loomkv.core.shard.SlotSet;
import io.loomkv.core.shard.Slots;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Scans merge the owned slots back into one key space in user-key order. */
class KvSlotScanTest {

    private static List<String> keys(ScanResult result) {
        List<String> keys = new ArrayList<>();
        for (KeyValue entry : result.getEntriesList()) {
            keys.add(entry.getKey().toStringUtf8());
        }
        return keys;
    }

    /** Every page of a scan, following continuations; asserts each page is well formed. */
    private static List<ScanResult> allPages(KvFixture kv, Scan.Builder scan) {
        List<ScanResult> pages = new ArrayList<>();
        ByteString resumeAfter = ByteString.EMPTY;
        for (int page = 0; page < 100_000; page++) {
            KvReply reply = kv.machine.read(KvRequest.newBuilder().setScan(scan.setResumeAfter(resumeAfter)).build());
            assertEquals(Status.OK, reply.getStatus(), reply.getMessage());
            ScanResult result = reply.getScan();
            pages.add(result);
            if (!result.getMore()) {
                return pages;
            }
            assertEquals(result.getEntries(result.getEntriesCount() - 1).getKey(), result.getContinuation());
            resumeAfter = result.getContinuation();
        }
        throw new AssertionError("scan did not end");
    }

    private static List<String> allKeys(KvFixture kv, Scan.Builder scan) {
        List<String> keys = new ArrayList<>();
        for (ScanResult page : allPages(kv, scan)) {
            keys.addAll(keys(page));
        }
        return keys;
    }

    @Test
    void keysOfManySlotsComeBackInUserKeyOrder() {
        KvFixture kv = new KvFixture();
        KvFixture.Client client = kv.client();
        List<String> expected = new ArrayList<>();
        Set<Integer> slots = new HashSet<>();
        for (int i = 0; i < 2000; i++) {
            String key = String.format("k/%05d", (i * 7919) % 2000);
            client.put(key, "v");
            slots.add(Slots.slotOf(bytes(key)));
        }
        for (int i = 0; i < 2000; i++) {
            expected.add(String.format("k/%05d", i));
        }
        assertTrue(slots.size() > 1500, "the keys spread over " + slots.size() + " slots");
        assertEquals(expected, allKeys(kv, Scan.newBuilder().setPrefix(bytes("k/")).setLimit(97)));
        assertEquals(expected.subList(100, 1900), allKeys(kv, Scan.newBuilder().setLimit(250)
                .setRange(KeyRange.newBuilder().setStart(bytes("k/00100")).setEnd(bytes("k/01900")))));
    }

    @Test
    void pagesOfOneKeyResumeExactlyAcrossSlotBoundaries() {
        KvFixture kv = new KvFixture();
        KvFixture.Client client = kv.client();
        for (int i = 0; i < 300; i++) {
            client.put("p" + i, "v");
        }
        List<ScanResult> pages = allPages(kv, Scan.newBuilder().setPrefix(bytes("p")).setLimit(1));
        assertEquals(300, pages.size(), "the page holding the last key knows nothing follows");
        List<String> seen = new ArrayList<>();
        for (ScanResult page : pages) {
            assertEquals(1, page.getEntriesCount());
            seen.addAll(keys(page));
        }
        List<String> sorted = new ArrayList<>(seen);
        sorted.sort(null);
        assertEquals(sorted, seen);
        assertEquals(300, new HashSet<>(seen).size());
    }

    @Test
    void theByteBoundStopsAPageAcrossSlots() {
        KvFixture kv = new KvFixture(KvLimits.defaults().withMaxReplyBytes(100), SessionPolicy.defaults());
        KvFixture.Client client = kv.client();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            String key = String.format("b%02d", i);
            client.put(key, "x".repeat(30));
            expected.add(key);
        }
        List<ScanResult> pages = allPages(kv, Scan.newBuilder().setPrefix(bytes("b")).setLimit(1000));
        List<String> seen = new ArrayList<>();
        for (ScanResult page : pages) {
            seen.addAll(keys(page));
            if (page.getMore()) {
                assertEquals(4, page.getEntriesCount(), "33 bytes a key: the fourth reaches 100 bytes and ends the page");
            }
        }
        assertEquals(expected, seen);
    }

    @Test
    void aHashTagPrefixOrRangeReadsOnlyItsSlot() {
        KvFixture kv = new KvFixture();
        KvFixture.Client client = kv.client();
        for (int i = 0; i < 500; i++) {
            client.put("user" + i + ".name", "n");
        }
        List<String> tagged = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            String key = String.format("{user7}.%02d", i);
            client.put(key, "t");
            tagged.add(key);
        }
        int before = kv.engine.scanCalls();
        assertEquals(tagged, allKeys(kv, Scan.newBuilder().setPrefix(bytes("{user7}."))));
        assertEquals(1, kv.engine.scanCalls() - before, "one slot, one engine scan");
        before = kv.engine.scanCalls();
        assertEquals(tagged.subList(5, 10), allKeys(kv, Scan.newBuilder().setRange(KeyRange.newBuilder()
                .setStart(bytes("{user7}.05")).setEnd(bytes("{user7}.10")))));
        assertEquals(1, kv.engine.scanCalls() - before);
        before = kv.engine.scanCalls();
        assertEquals(520, allKeys(kv, Scan.newBuilder().setPrefix(bytes("")).setLimit(10_000)).size());
        assertTrue(kv.engine.scanCalls() - before > 100, "without a tag every slot with keys is sought");
    }

    @Test
    void emptySlotsCostNoSeekOfTheirOwn() {
        KvFixture kv = new KvFixture();
        KvFixture.Client client = kv.client();
        for (String key : new String[] {"a", "b", "c", "d", "e"}) {
            client.put(key, "v");
        }
        int before = kv.engine.scanCalls();
        assertEquals(List.of("a", "b", "c", "d", "e"), allKeys(kv, Scan.newBuilder().setPrefix(bytes(""))));
        int seeks = kv.engine.scanCalls() - before;
        assertTrue(seeks <= 2 * 5 + 1, "5 keys in 16384 owned slots took " + seeks + " engine scans");
    }

    @Test
    void aGroupOwningSomeSlotsSeesOnlyThoseSlotsKeys() throws IOException {
        KvFixture all = new KvFixture();
        KvFixture.Client client = all.client();
        for (int i = 0; i < 400; i++) {
            client.put("s" + i, "v" + i);
        }
        SlotSet owned = SlotSet.of(new SlotRange(0, 4095), new SlotRange(12000, 16383));
        KvFixture part = restoredInto(all, owned);
        List<String> expected = new ArrayList<>();
        for (ByteString key : all.userContents().keySet()) {
            if (owned.contains(Slots.slotOf(key))) {
                expected.add(key.toStringUtf8());
            }
        }
        assertTrue(expected.size() > 100 && expected.size() < 300, expected.size() + " keys owned");
        assertEquals(expected, allKeys(part, Scan.newBuilder().setPrefix(bytes("s")).setLimit(7)));
    }

    /**
     * The state of {@code source} (group 1, every slot) restored into another machine of group 1
     * that then moves to a configuration giving it only {@code owned}: the other slots are handed
     * off, their keys still in the engine but no longer served.
     */
    private static KvFixture restoredInto(KvFixture source, SlotSet owned) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        source.machine.writeSnapshot(out);
        KvFixture target = new KvFixture(source.machine.limits(), source.machine.sessionPolicy(), 1, SlotSet.all());
        target.machine.restore(new ByteArrayInputStream(out.toByteArray()));
        target.index = target.machine.lastAppliedIndex();
        KvReply moved = target.apply(MigrationCommands.reconfigure(target.nowMillis,
                MigrationCommands.config(2, owned, 1, 2), MigrationCommands.config(1, SlotSet.all(), 1, 2)));
        assertEquals(Status.OK, moved.getStatus(), moved.getMessage());
        return target;
    }

    /**
     * Random keys (braces included, so hash tags occur), a random set of owned slots, random
     * prefix and range scans with random limits, resumed page by page: the pages together are
     * exactly the owned keys in the selection, in order, and each page keeps the limit and the
     * byte bound.
     */
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5})
    void randomScansMatchAModelOfTheOwnedKeys(long seed) throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        int maxReplyBytes = seed % 2 == 0 ? 64 : KvLimits.DEFAULT_MAX_REPLY_BYTES;
        KvFixture all = new KvFixture(KvLimits.defaults().withMaxReplyBytes(maxReplyBytes), SessionPolicy.defaults());
        KvFixture.Client client = all.client();
        for (int i = 0; i < 600; i++) {
            String key = random.nextInt(3) == 0 ? randomTagged(random) + randomKey(random) : randomKey(random);
            client.put(key, "v".repeat(random.nextInt(12)));
        }
        List<SlotRange> ranges = new ArrayList<>();
        for (int first = random.nextInt(50); first < Slots.SLOT_COUNT; first += 1 + random.nextInt(900)) {
            int last = Math.min(Slots.SLOT_COUNT - 1, first + random.nextInt(600));
            ranges.add(new SlotRange(first, last));
            first = last + 1;
        }
        SlotSet owned = SlotSet.of(ranges);
        KvFixture part = restoredInto(all, owned);
        TreeMap<ByteString, ByteString> model = new TreeMap<>(KvKeys.ORDER);
        for (Map.Entry<ByteString, ByteString> entry : all.userContents().entrySet()) {
            if (owned.contains(Slots.slotOf(entry.getKey()))) {
                model.put(entry.getKey(), entry.getValue());
            }
        }
        for (int round = 0; round < 60; round++) {
            checkOneScan(part, model, owned, random, maxReplyBytes, "seed " + seed + " round " + round);
        }
    }

    private static void checkOneScan(KvFixture kv, TreeMap<ByteString, ByteString> model, SlotSet owned,
            SplittableRandom random, int maxReplyBytes, String context) {
        Scan.Builder scan = Scan.newBuilder().setLimit(1 + random.nextInt(25));
        ByteString a = randomBound(random);
        ByteString b = randomBound(random);
        if (KvKeys.compare(a, b) > 0) {
            ByteString swap = a;
            a = b;
            b = swap;
        }
        if (random.nextInt(4) == 0) {
            // A range inside one prefix: if the prefix holds a tag, so does the range.
            b = a.concat(bytes(randomKey(random)));
        } else if (random.nextInt(5) == 0) {
            b = ByteString.EMPTY;
        }
        List<ByteString> expected = new ArrayList<>();
        ByteString fixed;
        if (random.nextBoolean()) {
            scan.setPrefix(a);
            fixed = a;
            for (ByteString key : model.keySet()) {
                if (key.startsWith(a)) {
                    expected.add(key);
                }
            }
        } else {
            scan.setRange(KeyRange.newBuilder().setStart(a).setEnd(b));
            fixed = b.isEmpty() ? ByteString.EMPTY : a.substring(0, commonPrefixLength(a, b));
            expected.addAll((b.isEmpty() ? model.tailMap(a, true) : model.subMap(a, true, b, false)).keySet());
        }
        KvReply first = kv.machine.read(KvRequest.newBuilder().setScan(scan.clone()).build());
        if (first.getStatus() == Status.WRONG_GROUP) {
            assertTrue(Slots.hashTag(fixed).isPresent() && !owned.contains(Slots.slotOf(fixed)), context);
            assertEquals(List.of(), expected, context);
            return;
        }
        List<ByteString> seen = new ArrayList<>();
        for (ScanResult page : allPages(kv, scan)) {
            assertTrue(page.getEntriesCount() <= scan.getLimit(), context);
            long bytesBeforeLast = 0;
            for (int i = 0; i < page.getEntriesCount(); i++) {
                KeyValue entry = page.getEntries(i);
                assertEquals(model.get(entry.getKey()), entry.getValue(), context);
                seen.add(entry.getKey());
                if (i < page.getEntriesCount() - 1) {
                    bytesBeforeLast += entry.getKey().size() + entry.getValue().size();
                }
            }
            assertTrue(bytesBeforeLast < maxReplyBytes, context + ": a page stops once it reaches the byte bound");
            if (page.getMore()) {
                assertTrue(page.getEntriesCount() > 0, context);
            }
        }
        assertEquals(expected, seen, context);
    }

    private static int commonPrefixLength(ByteString a, ByteString b) {
        int length = 0;
        while (length < Math.min(a.size(), b.size()) && a.byteAt(length) == b.byteAt(length)) {
            length++;
        }
        return length;
    }

    private static final String ALPHABET = "ab{}";

    private static String randomKey(SplittableRandom random) {
        StringBuilder key = new StringBuilder();
        int length = 1 + random.nextInt(7);
        for (int i = 0; i < length; i++) {
            key.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
        }
        return key.toString();
    }

    /** A short bound (matching many keys), a third of the time one that holds a whole hash tag. */
    private static ByteString randomBound(SplittableRandom random) {
        if (random.nextInt(3) == 0) {
            return bytes(randomTagged(random));
        }
        String key = randomKey(random);
        return bytes(key.substring(0, Math.min(key.length(), random.nextInt(5))));
    }

    /** A key or prefix with a whole tag, such as {@code a{ba}} or {@code {b}a}, from a few tags so keys share them. */
    private static String randomTagged(SplittableRandom random) {
        String tag = "{" + "ab".charAt(random.nextInt(2)) + (random.nextBoolean() ? "a" : "") + "}";
        return (random.nextBoolean() ? "" : "a") + tag;
    }
}
