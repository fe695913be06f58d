package io.loomkv.core.kv;

import static io.loomkv.core.kv.KvFixture.bytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.KeyValue;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.ScanResult;
import io.loomkv.core.kv.proto.Status;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class KvScanTest {

    private static final int USERS = 250;
    private static final int ORDERS = 120;

    private final KvFixture kv = new KvFixture(KvLimits.defaults().withScanLimits(100, 500), SessionPolicy.defaults());

    @BeforeEach
    void fill() {
        KvFixture.Client client = kv.client();
        // Writes in a scrambled order so the scan's order is the engine's, not the insertion's.
        for (int i = 0; i < USERS; i++) {
            int n = (i * 97) % USERS;
            client.put(String.format("user/%04d", n), "u" + n);
        }
        for (int i = 0; i < ORDERS; i++) {
            client.put(String.format("order/%04d", i), "o" + i);
        }
        client.put("user", "not under user/");
        client.put("usera", "after the prefix range");
    }

    private static List<String> keys(ScanResult result) {
        List<String> keys = new ArrayList<>();
        for (KeyValue entry : result.getEntriesList()) {
            keys.add(entry.getKey().toStringUtf8());
        }
        return keys;
    }

    private static List<String> expectedUsers(int from, int toExclusive) {
        List<String> keys = new ArrayList<>();
        for (int i = from; i < toExclusive; i++) {
            keys.add(String.format("user/%04d", i));
        }
        return keys;
    }

    @Test
    void prefixScanReturnsOnlyMatchingKeysInOrder() {
        KvReply reply = kv.scanPrefix("user/", 500, ByteString.EMPTY);
        assertEquals(Status.OK, reply.getStatus());
        assertEquals(expectedUsers(0, USERS), keys(reply.getScan()));
        assertFalse(reply.getScan().getMore());
        assertEquals("u17", reply.getScan().getEntries(17).getValue().toStringUtf8());
    }

    @Test
    void prefixScanPagesWithContinuationOverTheWholeSet() {
        List<String> seen = new ArrayList<>();
        ByteString resumeAfter = ByteString.EMPTY;
        int pages = 0;
        while (true) {
            KvReply reply = kv.scanPrefix("user/", 37, resumeAfter);
            assertEquals(Status.OK, reply.getStatus());
            ScanResult page = reply.getScan();
            seen.addAll(keys(page));
            pages++;
            if (!page.getMore()) {
                break;
            }
            assertEquals(37, page.getEntriesCount());
            assertEquals(page.getEntries(36).getKey(), page.getContinuation());
            resumeAfter = page.getContinuation();
        }
        assertEquals(expectedUsers(0, USERS), seen);
        assertEquals(7, pages, "250 keys in pages of 37");
    }

    @Test
    void exactMultipleOfTheLimitEndsWithoutAnEmptyPage() {
        KvReply first = kv.scanPrefix("order/", 60, ByteString.EMPTY);
        assertTrue(first.getScan().getMore());
        KvReply second = kv.scanPrefix("order/", 60, first.getScan().getContinuation());
        assertEquals(60, second.getScan().getEntriesCount());
        assertFalse(second.getScan().getMore(), "nothing follows the 120th order");
        assertTrue(second.getScan().getContinuation().isEmpty());
    }

    @Test
    void rangeScanIsHalfOpen() {
        KvReply reply = kv.scanRange(bytes("user/0010"), bytes("user/0020"), 0, ByteString.EMPTY);
        assertEquals(expectedUsers(10, 20), keys(reply.getScan()));
    }

    @Test
    void rangeScanPagesWithContinuation() {
        List<String> seen = new ArrayList<>();
        ByteString resumeAfter = ByteString.EMPTY;
        for (int page = 0; page < 100; page++) {
            ScanResult result = kv.scanRange(bytes("user/0005"), bytes("user/0200"), 50, resumeAfter).getScan();
            seen.addAll(keys(result));
            if (!result.getMore()) {
                break;
            }
            resumeAfter = result.getContinuation();
        }
        assertEquals(expectedUsers(5, 200), seen);
    }

    @Test
    void openEndedRangeRunsToTheLastKey() {
        KvReply reply = kv.scanRange(bytes("user/0248"), ByteString.EMPTY, 0, ByteString.EMPTY);
        assertEquals(List.of("user/0248", "user/0249", "usera"), keys(reply.getScan()));
    }

    @Test
    void emptyStartScansFromTheFirstKeyWithTheDefaultLimit() {
        KvReply reply = kv.scanRange(ByteString.EMPTY, ByteString.EMPTY, 0, ByteString.EMPTY);
        assertEquals(100, reply.getScan().getEntriesCount(), "default limit");
        assertEquals("order/0000", reply.getScan().getEntries(0).getKey().toStringUtf8());
        assertTrue(reply.getScan().getMore());
    }

    @Test
    void emptyRangeAndPrefixWithoutMatchesReturnNothing() {
        KvReply same = kv.scanRange(bytes("b"), bytes("b"), 10, ByteString.EMPTY);
        assertEquals(Status.OK, same.getStatus());
        assertEquals(0, same.getScan().getEntriesCount());
        assertFalse(same.getScan().getMore());
        assertEquals(0, kv.scanPrefix("nothing/", 10, ByteString.EMPTY).getScan().getEntriesCount());
    }

    @Test
    void resumeAfterBeyondTheRangeReturnsNothingAndBeforeItIsIgnored() {
        assertEquals(0, kv.scanPrefix("order/", 10, bytes("order/9999")).getScan().getEntriesCount());
        KvReply before = kv.scanPrefix("user/", 2, bytes("a"));
        assertEquals(expectedUsers(0, 2), keys(before.getScan()));
    }

    @Test
    void prefixOfAllFfBytesScansToTheEnd() {
        ByteString ff = ByteString.copyFrom(new byte[] {(byte) 0xFF});
        KvFixture.Client client = kv.client();
        client.put("\u00ff", "utf8 of U+00FF is C3 BF");
        kv.apply(client.next().setPut(io.loomkv.core.kv.proto.Put.newBuilder()
                .setKey(ff.concat(bytes("x"))).setValue(bytes("v"))).build());
        KvReply reply = kv.machine.read(io.loomkv.core.kv.proto.KvRequest.newBuilder()
                .setScan(io.loomkv.core.kv.proto.Scan.newBuilder().setPrefix(ff)).build());
        assertEquals(1, reply.getScan().getEntriesCount());
        assertEquals(ff.concat(bytes("x")), reply.getScan().getEntries(0).getKey());
    }

    @Test
    void pageStopsOnceItReachesTheReplyByteBudgetAndHoldsAtLeastOneEntry() {
        KvFixture small = new KvFixture(KvLimits.defaults().withMaxReplyBytes(100), SessionPolicy.defaults());
        KvFixture.Client client = small.client();
        client.put("a", "x".repeat(150));
        client.put("b", "x".repeat(40));
        client.put("c", "x".repeat(40));
        client.put("d", "x".repeat(40));
        client.put("e", "x".repeat(40));
        ScanResult first = small.scanPrefix("", 10, ByteString.EMPTY).getScan();
        assertEquals(List.of("a"), keys(first), "one oversized entry still comes back alone");
        assertTrue(first.getMore());
        ScanResult second = small.scanPrefix("", 10, first.getContinuation()).getScan();
        assertEquals(List.of("b", "c", "d"), keys(second), "the page stops once it reaches 100 bytes");
        assertTrue(second.getMore());
        ScanResult third = small.scanPrefix("", 10, second.getContinuation()).getScan();
        assertEquals(List.of("e"), keys(third));
        assertFalse(third.getMore());
    }
}
