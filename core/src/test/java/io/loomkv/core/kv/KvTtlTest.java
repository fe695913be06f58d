package io.loomkv.core.kv;

import static io.loomkv.core.kv.KvFixture.bytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.Append;
import io.loomkv.core.kv.proto.Command;
import io.loomkv.core.kv.proto.CompareAndSet;
import io.loomkv.core.kv.proto.ExpireKeys;
import io.loomkv.core.kv.proto.ExpiredKeys;
import io.loomkv.core.kv.proto.Expire;
import io.loomkv.core.kv.proto.ExpireCondition;
import io.loomkv.core.kv.proto.Expiry;
import io.loomkv.core.kv.proto.ExportSlotResult;
import io.loomkv.core.kv.proto.FindExpired;
import io.loomkv.core.kv.proto.Get;
import io.loomkv.core.kv.proto.KeyValue;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.MigrationRead;
import io.loomkv.core.kv.proto.MigrationWrite;
import io.loomkv.core.kv.proto.MultiPut;
import io.loomkv.core.kv.proto.Put;
import io.loomkv.core.kv.proto.Scan;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.core.shard.Slots;
import io.loomkv.core.shard.SlotRange;
import io.loomkv.core.shard.SlotSet;
import io.loomkv.core.shard.proto.Layout;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Keys with a time to live (docs/ttl.md): deadlines fixed from the leader's timestamp when the
 * write is applied, hidden by reads from the deadline on, treated as absent by writes at the log
 * clock, carried by snapshots and slot moves, and deleted through the log by active expiry.
 */
class KvTtlTest {

    private final KvFixture kv = new KvFixture();
    private final KvFixture.Client client = kv.client();

    @Test
    void aKeyIsServedUntilItsDeadlineAndNotFromItOn() {
        long written = kv.nowMillis;
        assertOk(putWithTtl("k", "v", 5_000));
        KvReply before = get("k", written + 4_999);
        assertEquals("v", before.getGet().getValue().toStringUtf8());
        assertEquals(written + 5_000, before.getGet().getExpiresAtMillis());
        assertEquals(1, before.getGet().getRemainingMillis());
        assertEquals(Status.NOT_FOUND, get("k", written + 5_000).getStatus(), "gone at the deadline itself");
        assertEquals(Status.NOT_FOUND, getConcurrently("k", written + 5_000).getStatus());
        assertEquals("v", getConcurrently("k", written + 4_999).getGet().getValue().toStringUtf8());
        // A read never goes back before the log clock, whatever the caller's clock says.
        kv.nowMillis = written + 6_000;
        assertOk(client.put("other", "x"));
        assertEquals(Status.NOT_FOUND, get("k", written).getStatus(), "the log clock has passed the deadline");
    }

    @Test
    void withoutValueAnswersOnlyTheDeadline() {
        assertOk(putWithTtl("k", "a large value", 60_000));
        KvReply reply = kv.machine.read(KvRequest.newBuilder()
                .setGet(Get.newBuilder().setKey(bytes("k")).setWithoutValue(true)).build(), kv.nowMillis + 1_000);
        assertTrue(reply.getGet().getValue().isEmpty());
        assertEquals(59_000, reply.getGet().getRemainingMillis());
        assertOk(client.put("plain", "v"));
        KvReply plain = get("plain", kv.nowMillis);
        assertEquals(0, plain.getGet().getExpiresAtMillis(), "a key without a deadline reports none");
    }

    @Test
    void writesTreatAnExpiredKeyAsAbsent() {
        assertOk(putWithTtl("k", "old", 1_000));
        kv.nowMillis += 1_000;
        KvReply cas = client.cas("k", null, "new");
        assertEquals(Status.OK, cas.getStatus(), "expect_absent holds for an expired key");
        assertEquals("new", kv.value("k"));
        assertEquals(0, deadline("k"), "the new value has no deadline: the expired one went with the old value");

        assertOk(putWithTtl("a", "123", 1_000));
        kv.nowMillis += 1_000;
        KvReply append = client.append("a", "4");
        assertEquals(1, append.getAppend().getNewLengthBytes(), "the append started from nothing");
        assertEquals(0, deadline("a"));

        assertOk(putWithTtl("p", "x", 1_000));
        kv.nowMillis += 1_000;
        assertFalse(client.put("p", "y").getPut().getExisted());
        assertOk(putWithTtl("d", "x", 1_000));
        kv.nowMillis += 1_000;
        assertFalse(client.delete("d").getDelete().getExisted());
        assertTrue(kv.userContents().keySet().stream().noneMatch(key -> key.equals(bytes("d"))),
                "a delete of an expired key removes its value too");
        assertEquals(0, deadline("d"));
    }

    @Test
    void eachWriteKeepsOrReplacesTheDeadlineAsRedisDoes() {
        assertOk(putWithTtl("k", "1", 10_000));
        long deadline = deadline("k");
        assertOk(client.append("k", "2"));
        assertEquals(deadline, deadline("k"), "append keeps it");
        assertOk(kv.apply(client.next().setPut(Put.newBuilder().setKey(bytes("k")).setValue(bytes("3"))
                .setExpiry(Expiry.newBuilder().setKeep(true))).build()));
        assertEquals(deadline, deadline("k"), "put with keep keeps it");
        assertOk(kv.apply(client.next().setCompareAndSet(CompareAndSet.newBuilder().setKey(bytes("k"))
                .setExpectedValue(bytes("3")).setNewValue(bytes("4")).setExpiry(Expiry.newBuilder().setKeep(true)))
                .build()));
        assertEquals(deadline, deadline("k"), "compare-and-set with keep keeps it");
        assertOk(client.cas("k", "4", "5"));
        assertEquals(0, deadline("k"), "compare-and-set without an expiry leaves none");
        assertOk(putWithTtl("k", "6", 10_000));
        assertOk(client.put("k", "7"));
        assertEquals(0, deadline("k"), "a plain put leaves none, as SET");
        assertOk(putWithTtl("m", "1", 10_000));
        assertOk(client.multiPut("m", "2", "n", "3"));
        assertEquals(0, deadline("m"), "a multi-put leaves none, as MSET");
        assertOk(kv.apply(client.next().setPut(Put.newBuilder().setKey(bytes("at")).setValue(bytes("v"))
                .setExpiry(Expiry.newBuilder().setAtUnixMillis(kv.nowMillis + 123))).build()));
        assertEquals(kv.nowMillis + 123, deadline("at"));
        assertOk(kv.apply(client.next().setPut(Put.newBuilder().setKey(bytes("past")).setValue(bytes("v"))
                .setExpiry(Expiry.newBuilder().setAtUnixMillis(kv.nowMillis - 1))).build()));
        assertNull(kv.value("past"), "a deadline already past deletes the key at once");
        assertTrue(kv.userContents().keySet().stream().noneMatch(key -> key.equals(bytes("past"))));
    }

    @Test
    void expireSetsMovesAndRemovesDeadlines() {
        assertFalse(expire(Expire.newBuilder().setKey(bytes("none")).setTtlMillis(10)).getExisted());
        assertOk(client.put("k", "v"));
        KvReply set = kvExpire(Expire.newBuilder().setKey(bytes("k")).setTtlMillis(10_000));
        assertTrue(set.getExpire().getExisted());
        assertTrue(set.getExpire().getChanged());
        assertEquals(kv.nowMillis + 10_000, deadline("k"));
        assertTrue(expire(Expire.newBuilder().setKey(bytes("k")).setAtUnixMillis(kv.nowMillis + 20_000)).getChanged());
        assertEquals(kv.nowMillis + 20_000, deadline("k"));
        assertTrue(expire(Expire.newBuilder().setKey(bytes("k")).setPersist(true)).getChanged());
        assertEquals(0, deadline("k"));
        assertFalse(expire(Expire.newBuilder().setKey(bytes("k")).setPersist(true)).getChanged(), "nothing to remove");
        assertEquals("v", kv.value("k"));
        assertTrue(expire(Expire.newBuilder().setKey(bytes("k")).setAtUnixMillis(1)).getChanged());
        assertNull(kv.value("k"), "a deadline in the past deletes the key");
        assertTrue(kv.userContents().isEmpty());
    }

    @Test
    void expireConditionsAreCheckedWhenApplied() {
        assertOk(client.put("k", "v"));
        assertTrue(expire(Expire.newBuilder().setKey(bytes("k")).setTtlMillis(100).setCondition(ExpireCondition.IF_SOME))
                .getSkipped(), "XX: no deadline yet");
        assertEquals(0, deadline("k"));
        assertFalse(expire(Expire.newBuilder().setKey(bytes("k")).setTtlMillis(100).setCondition(ExpireCondition.IF_NONE))
                .getSkipped());
        long first = deadline("k");
        assertTrue(expire(Expire.newBuilder().setKey(bytes("k")).setTtlMillis(50).setCondition(ExpireCondition.IF_LATER))
                .getSkipped(), "GT: 50 ms is earlier");
        assertFalse(expire(Expire.newBuilder().setKey(bytes("k")).setTtlMillis(200).setCondition(ExpireCondition.IF_LATER))
                .getSkipped());
        assertTrue(deadline("k") > first);
        assertFalse(expire(Expire.newBuilder().setKey(bytes("k")).setTtlMillis(10).setCondition(
                ExpireCondition.IF_EARLIER_THAN_SOME)).getSkipped());
        assertEquals(kv.nowMillis + 10, deadline("k"));
        assertTrue(expire(Expire.newBuilder().setKey(bytes("k")).setPersist(true)).getChanged());
        assertTrue(expire(Expire.newBuilder().setKey(bytes("k")).setTtlMillis(10).setCondition(
                ExpireCondition.IF_EARLIER_THAN_SOME)).getSkipped(), "XX LT: none to be earlier than");
        assertFalse(expire(Expire.newBuilder().setKey(bytes("k")).setTtlMillis(10).setCondition(ExpireCondition.IF_EARLIER))
                .getSkipped(), "LT: none counts as forever");
        assertInvalid(kvExpire(Expire.newBuilder().setKey(bytes("k")).setPersist(true).setCondition(ExpireCondition.IF_NONE)),
                "persist takes no condition");
    }

    @Test
    void badDeadlinesAreRefusedAndChangeNothing() {
        assertOk(client.put("k", "v"));
        assertInvalid(kv.apply(client.next().setPut(Put.newBuilder().setKey(bytes("k")).setValue(bytes("w"))
                .setExpiry(Expiry.newBuilder().setTtlMillis(0))).build()), "ttl_millis");
        assertInvalid(kv.apply(client.next().setPut(Put.newBuilder().setKey(bytes("k")).setValue(bytes("w"))
                .setExpiry(Expiry.newBuilder().setTtlMillis(Deadlines.MAX_TTL_MILLIS + 1))).build()), "ttl_millis");
        assertInvalid(kv.apply(client.next().setPut(Put.newBuilder().setKey(bytes("k")).setValue(bytes("w"))
                .setExpiry(Expiry.newBuilder().setAtUnixMillis(Deadlines.MAX_DEADLINE_MILLIS + 1))).build()), "at_unix_millis");
        assertInvalid(kvExpire(Expire.newBuilder().setKey(bytes("k"))), "expire needs");
        assertInvalid(kv.apply(client.next().setMultiPut(MultiPut.newBuilder().addEntries(KeyValue.newBuilder()
                .setKey(bytes("k")).setValue(bytes("w")).setExpiresAtMillis(kv.nowMillis + 10))).build()), "no deadline");
        assertEquals("v", kv.value("k"));
        assertEquals(0, deadline("k"));
    }

    @Test
    void multiGetAndScanSkipExpiredKeys() {
        assertOk(putWithTtl("s1", "a", 1_000));
        assertOk(client.put("s2", "b"));
        assertOk(putWithTtl("s3", "c", 5_000));
        long now = kv.nowMillis + 2_000;
        KvReply multi = kv.machine.read(KvRequest.newBuilder().setMultiGet(io.loomkv.core.kv.proto.MultiGet.newBuilder()
                .addKeys(bytes("s1")).addKeys(bytes("s2")).addKeys(bytes("s3"))).build(), now);
        assertFalse(multi.getMultiGet().getEntries(0).getFound());
        assertTrue(multi.getMultiGet().getEntries(1).getFound());
        assertTrue(multi.getMultiGet().getEntries(2).getFound());
        KvReply scan = kv.machine.read(KvRequest.newBuilder().setScan(Scan.newBuilder().setPrefix(bytes("s"))).build(), now);
        assertEquals(List.of(bytes("s2"), bytes("s3")), scan.getScan().getEntriesList().stream().map(KeyValue::getKey).toList());
    }

    @Test
    void aScanThroughManyExpiredKeysEndsEachPageEarly() {
        int expired = SlotScan.MAX_HIDDEN_PER_PAGE + 5;
        for (int i = 0; i < expired; i++) {
            assertOk(putWithTtl(String.format("{t}%06d", i), "x", 1_000));
        }
        assertOk(client.put("{t}zzz", "live"));
        long now = kv.nowMillis + 1_000;
        List<ByteString> found = new ArrayList<>();
        ByteString resume = ByteString.EMPTY;
        int pages = 0;
        while (true) {
            KvReply page = kv.machine.read(KvRequest.newBuilder().setScan(Scan.newBuilder().setPrefix(bytes("{t}"))
                    .setLimit(100).setResumeAfter(resume)).build(), now);
            assertOk(page);
            pages++;
            page.getScan().getEntriesList().forEach(entry -> found.add(entry.getKey()));
            if (!page.getScan().getMore()) {
                break;
            }
            resume = page.getScan().getContinuation();
        }
        assertEquals(List.of(bytes("{t}zzz")), found);
        assertEquals(2, pages, "the first page stops after " + SlotScan.MAX_HIDDEN_PER_PAGE + " expired keys");
    }

    @Test
    void activeExpiryDeletesExpiredKeysThroughTheLogAndOnlyThose() {
        assertOk(putWithTtl("gone1", "a", 1_000));
        assertOk(putWithTtl("gone2", "b", 1_000));
        assertOk(putWithTtl("rewritten", "c", 1_000));
        assertOk(putWithTtl("later", "d", 60_000));
        assertOk(client.put("plain", "e"));
        kv.nowMillis += 1_000;
        ExpiredKeys found = find(ByteString.EMPTY, 0, kv.nowMillis);
        assertEquals(List.of(bytes("gone1"), bytes("gone2"), bytes("rewritten")),
                found.getKeysList().stream().map(KeyValue::getKey).sorted(KvKeys.ORDER).toList());
        assertTrue(found.getNextAfter().isEmpty(), "the walk reached the end");
        // Rewritten between the walk and the deletion: its new value must survive.
        assertOk(putWithTtl("rewritten", "new", 60_000));
        KvReply deleted = kv.apply(expireKeys(found));
        assertOk(deleted);
        assertEquals(2, deleted.getMigration().getExpired().getKeysCount());
        assertEquals("new", kv.value("rewritten"));
        assertEquals(3, kv.userContents().size(), "later, plain and rewritten are left: " + kv.userContents().keySet());
        // A second copy of the same proposal changes nothing.
        assertEquals(0, kv.apply(expireKeys(found)).getMigration().getExpired().getKeysCount());
        // A walk in small steps resumes from its cursor.
        ExpiredKeys step = find(ByteString.EMPTY, 1, kv.nowMillis + 60_000);
        assertEquals(1, step.getExamined());
        assertFalse(step.getNextAfter().isEmpty());
    }

    @Test
    void aWalkThatFindsNoDeadlineLetsReadsStopLookingForThem() {
        assertOk(putWithTtl("k", "v", 1_000));
        assertTrue(kv.machine.deadlinesMayExist());
        kv.nowMillis += 1_000;
        assertOk(kv.apply(expireKeys(find(ByteString.EMPTY, 0, kv.nowMillis))));
        assertTrue(kv.machine.deadlinesMayExist(), "only a walk that finds none clears it");
        find(ByteString.EMPTY, 0, kv.nowMillis);
        assertFalse(kv.machine.deadlinesMayExist());
        assertOk(putWithTtl("k2", "v", 1_000));
        assertTrue(kv.machine.deadlinesMayExist());
    }

    @Test
    void deadlinesSurviveASnapshotAndItsRestore() throws IOException {
        assertOk(putWithTtl("k", "v", 5_000));
        assertOk(client.put("plain", "p"));
        long deadline = deadline("k");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        kv.machine.writeSnapshot(out);
        KvFixture restored = new KvFixture();
        restored.machine.restore(new ByteArrayInputStream(out.toByteArray()));
        assertTrue(restored.machine.deadlinesMayExist());
        assertEquals(deadline, restored.machine.read(KvRequest.newBuilder().setGet(Get.newBuilder().setKey(bytes("k")))
                .build(), kv.nowMillis).getGet().getExpiresAtMillis());
        assertEquals(Status.NOT_FOUND, restored.machine.read(KvRequest.newBuilder()
                .setGet(Get.newBuilder().setKey(bytes("k"))).build(), deadline).getStatus());
        KvSnapshotSummary summary = KvSnapshotSummary.read(new ByteArrayInputStream(out.toByteArray()),
                KvLimits.defaults(), 1);
        assertEquals(2, summary.keyCount(), "deadlines are not counted as keys");
    }

    @Test
    void aMovedSlotKeepsItsDeadlinesAndTheOldOwnerDeletesThemWithIt() {
        int slot = Slots.slotOf(bytes("{m}"));
        int half = Slots.SLOT_COUNT / 2;
        SlotRange firstHalf = new SlotRange(0, half - 1);
        SlotRange secondHalf = new SlotRange(half, Slots.SLOT_COUNT - 1);
        SlotRange mine = slot < half ? firstHalf : secondHalf;
        SlotSet ownedBy1 = SlotSet.of(mine);
        SlotSet ownedBy2 = SlotSet.of(slot < half ? secondHalf : firstHalf);
        List<SlotRange> rest = new ArrayList<>();
        if (slot > mine.first()) {
            rest.add(new SlotRange(mine.first(), slot - 1));
        }
        if (slot < mine.last()) {
            rest.add(new SlotRange(slot + 1, mine.last()));
        }
        Layout config1 = MigrationCommands.config(1, ownedBy1, 1, 2);
        Layout config2 = MigrationCommands.config(2, SlotSet.of(rest), 1, 2);
        KvFixture a = new KvFixture(KvLimits.defaults(), SessionPolicy.defaults(), 1, ownedBy1);
        KvFixture b = new KvFixture(KvLimits.defaults(), SessionPolicy.defaults(), 2, ownedBy2);
        KvFixture.Client writer = a.client();
        assertOk(a.apply(writer.next().setPut(Put.newBuilder().setKey(bytes("{m}ttl")).setValue(bytes("v"))
                .setExpiry(Expiry.newBuilder().setTtlMillis(30_000))).build()));
        assertOk(writer.put("{m}plain", "p"));
        long deadline = a.machine.read(KvRequest.newBuilder().setGet(Get.newBuilder().setKey(bytes("{m}ttl"))).build())
                .getGet().getExpiresAtMillis();
        assertOk(a.apply(MigrationCommands.reconfigure(a.nowMillis, config2, config1)));
        assertOk(b.apply(MigrationCommands.reconfigure(b.nowMillis, config2, config1)));
        KvReply exported = a.machine.read(MigrationCommands.export(1, 2, slot, ByteString.EMPTY, 0));
        ExportSlotResult chunk = exported.getMigration().getExport().getSlots(0);
        assertTrue(chunk.getLast());
        assertOk(b.apply(MigrationCommands.install(b.nowMillis, 2, slot, ByteString.EMPTY, chunk)));
        // Later, on the new owner, with a clock moved on: the deadline is the one set at the write.
        b.nowMillis += 10_000;
        KvReply moved = b.machine.read(KvRequest.newBuilder().setGet(Get.newBuilder().setKey(bytes("{m}ttl"))).build(),
                b.nowMillis);
        assertEquals(deadline, moved.getGet().getExpiresAtMillis(), "a move does not reset a time to live");
        assertEquals(Status.NOT_FOUND, b.machine.read(KvRequest.newBuilder().setGet(Get.newBuilder()
                .setKey(bytes("{m}ttl"))).build(), deadline).getStatus());
        assertEquals(0, b.machine.read(KvRequest.newBuilder().setGet(Get.newBuilder().setKey(bytes("{m}plain"))).build())
                .getGet().getExpiresAtMillis());
        while (a.machine.movingSlotCount() > 0) {
            assertOk(a.apply(MigrationCommands.deleteSlot(a.nowMillis, 2, slot, 1)));
        }
        assertTrue(a.engine.contents().isEmpty() || a.engine.contents().keySet().stream()
                .noneMatch(key -> DeadlineKeys.isDeadlineKey(key.toByteArray()) || SlotKeys.slotOf(key.toByteArray()) == slot),
                "the old owner kept nothing of the slot: " + a.engine.contents().keySet());
    }

    private KvReply putWithTtl(String key, String value, long ttlMillis) {
        return kv.apply(client.next().setPut(Put.newBuilder().setKey(bytes(key)).setValue(bytes(value))
                .setExpiry(Expiry.newBuilder().setTtlMillis(ttlMillis))).build());
    }

    private KvReply kvExpire(Expire.Builder expire) {
        return kv.apply(client.next().setExpire(expire).build());
    }

    private io.loomkv.core.kv.proto.ExpireResult expire(Expire.Builder expire) {
        KvReply reply = kvExpire(expire);
        assertOk(reply);
        return reply.getExpire();
    }

    private KvReply get(String key, long nowMillis) {
        return kv.machine.read(KvRequest.newBuilder().setGet(Get.newBuilder().setKey(bytes(key))).build(), nowMillis);
    }

    private KvReply getConcurrently(String key, long nowMillis) {
        return kv.machine.getConcurrently(KvRequest.newBuilder().setGet(Get.newBuilder().setKey(bytes(key))).build(),
                nowMillis);
    }

    /** The key's stored deadline as the apply thread sees it, expired or not (0: none). */
    private long deadline(String key) {
        return kv.machine.deadlineAtApply(SlotKeys.engineKey(bytes(key)));
    }

    private ExpiredKeys find(ByteString after, int maxExamined, long nowMillis) {
        KvReply reply = kv.machine.read(KvRequest.newBuilder().setGroupId(1).setMigrationRead(MigrationRead.newBuilder()
                .setFindExpired(FindExpired.newBuilder().setAfter(after).setMaxExamined(maxExamined))).build(), nowMillis);
        assertOk(reply);
        return reply.getMigration().getExpired();
    }

    private Command expireKeys(ExpiredKeys found) {
        return kv.stamped().setMigrationWrite(MigrationWrite.newBuilder()
                .setExpireKeys(ExpireKeys.newBuilder().addAllKeys(found.getKeysList()))).build();
    }

    private static void assertOk(KvReply reply) {
        assertEquals(Status.OK, reply.getStatus(), reply.getMessage());
    }

    private static void assertInvalid(KvReply reply, String messagePart) {
        assertEquals(Status.INVALID_ARGUMENT, reply.getStatus(), reply.getMessage());
        assertTrue(reply.getMessage().contains(messagePart), reply.getMessage());
    }
}
