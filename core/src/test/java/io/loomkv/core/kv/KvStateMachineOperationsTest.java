package io.loomkv.core.kv;

import static io.loomkv.core.kv.KvFixture.bytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.Command;
import io.loomkv.core.kv.proto.CommandBatch;
import io.loomkv.core.kv.proto.Get;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.MultiGetEntry;
import io.loomkv.core.kv.proto.OpenSession;
import io.loomkv.core.kv.proto.Put;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.core.shard.SlotSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class KvStateMachineOperationsTest {

    private final KvFixture kv = new KvFixture();
    private final KvFixture.Client client = kv.client();

    @Test
    void putThenGetReturnsTheValue() {
        KvReply first = client.put("a", "1");
        assertEquals(Status.OK, first.getStatus());
        assertFalse(first.getPut().getExisted());
        KvReply second = client.put("a", "2");
        assertTrue(second.getPut().getExisted());
        assertEquals("2", kv.value("a"));
    }

    @Test
    void getOfAbsentKeyIsNotFound() {
        assertEquals(Status.NOT_FOUND, kv.get("missing").getStatus());
    }

    @Test
    void getConcurrentlyAnswersLikeTheApplyThreadRead() {
        client.put("a", "1");
        KvRequest present = KvRequest.newBuilder().setGet(Get.newBuilder().setKey(bytes("a"))).build();
        KvRequest absent = KvRequest.newBuilder().setGet(Get.newBuilder().setKey(bytes("b"))).build();
        assertEquals(kv.machine.read(present), kv.machine.getConcurrently(present, kv.nowMillis));
        assertEquals("1", kv.machine.getConcurrently(present, kv.nowMillis).getGet().getValue().toStringUtf8());
        assertEquals(Status.NOT_FOUND, kv.machine.getConcurrently(absent, kv.nowMillis).getStatus());
    }

    @Test
    void getConcurrentlyRefusesMultiKeyReads() {
        KvRequest multiGet = KvRequest.newBuilder().setMultiGet(io.loomkv.core.kv.proto.MultiGet.newBuilder()
                .addKeys(bytes("a"))).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> kv.machine.getConcurrently(multiGet, kv.nowMillis));
        assertTrue(e.getMessage().contains("MULTI_GET"), e.getMessage());
    }

    @Test
    void emptyValueIsAValue() {
        client.put("k", "");
        KvReply reply = kv.get("k");
        assertEquals(Status.OK, reply.getStatus());
        assertTrue(reply.getGet().getValue().isEmpty());
    }

    @Test
    void appendConcatenatesAndTreatsAbsentAsEmpty() {
        KvReply first = client.append("log", "ab");
        assertEquals(Status.OK, first.getStatus());
        assertEquals(2, first.getAppend().getNewLengthBytes());
        KvReply second = client.append("log", "cde");
        assertEquals(5, second.getAppend().getNewLengthBytes());
        assertEquals("abcde", kv.value("log"));
    }

    @Test
    void appendPastMaxValueBytesIsRefusedAndChangesNothing() {
        KvFixture small = new KvFixture(KvLimits.defaults().withMaxValueBytes(4), SessionPolicy.defaults());
        KvFixture.Client writer = small.client();
        writer.put("k", "abc");
        KvReply reply = writer.append("k", "de");
        assertEquals(Status.INVALID_ARGUMENT, reply.getStatus());
        assertTrue(reply.getMessage().contains("maxValueBytes"), reply.getMessage());
        assertEquals("abc", small.value("k"));
    }

    @Test
    void deleteReportsWhetherTheKeyExisted() {
        client.put("k", "v");
        KvReply deleted = client.delete("k");
        assertEquals(Status.OK, deleted.getStatus());
        assertTrue(deleted.getDelete().getExisted());
        assertNull(kv.value("k"));
        KvReply again = client.delete("k");
        assertEquals(Status.OK, again.getStatus());
        assertFalse(again.getDelete().getExisted());
    }

    @Test
    void compareAndSetSwapsOnMatchingValue() {
        client.put("k", "old");
        KvReply reply = client.cas("k", "old", "new");
        assertEquals(Status.OK, reply.getStatus());
        assertTrue(reply.getCompareAndSet().getSwapped());
        assertTrue(reply.getCompareAndSet().getCurrentPresent());
        assertEquals("new", reply.getCompareAndSet().getCurrentValue().toStringUtf8());
        assertEquals("new", kv.value("k"));
    }

    @Test
    void compareAndSetMismatchReturnsCurrentValueAndChangesNothing() {
        client.put("k", "actual");
        KvReply reply = client.cas("k", "expected", "new");
        assertEquals(Status.CAS_FAILED, reply.getStatus());
        assertFalse(reply.getCompareAndSet().getSwapped());
        assertTrue(reply.getCompareAndSet().getCurrentPresent());
        assertEquals("actual", reply.getCompareAndSet().getCurrentValue().toStringUtf8());
        assertEquals("actual", kv.value("k"));
    }

    @Test
    void compareAndSetOnAbsentKeyWithExpectedValueFails() {
        KvReply reply = client.cas("k", "x", "new");
        assertEquals(Status.CAS_FAILED, reply.getStatus());
        assertFalse(reply.getCompareAndSet().getCurrentPresent());
        assertNull(kv.value("k"));
    }

    @Test
    void compareAndSetExpectAbsentCreatesOnlyOnce() {
        KvReply created = client.cas("lock", null, "owner-1");
        assertEquals(Status.OK, created.getStatus());
        assertTrue(created.getCompareAndSet().getSwapped());
        KvReply second = client.cas("lock", null, "owner-2");
        assertEquals(Status.CAS_FAILED, second.getStatus());
        assertEquals("owner-1", second.getCompareAndSet().getCurrentValue().toStringUtf8());
        assertEquals("owner-1", kv.value("lock"));
    }

    @Test
    void compareAndSetDistinguishesEmptyValueFromAbsent() {
        client.put("k", "");
        assertEquals(Status.CAS_FAILED, client.cas("k", null, "x").getStatus());
        assertEquals(Status.OK, client.cas("k", "", "x").getStatus());
        assertEquals("x", kv.value("k"));
    }

    @Test
    void multiPutWritesAllKeysInOneEngineWrite() {
        int writesBefore = kv.engine.writeCalls();
        KvReply reply = client.multiPut("a", "1", "b", "2", "c", "3");
        assertEquals(Status.OK, reply.getStatus());
        assertEquals(3, reply.getMultiPut().getWritten());
        assertEquals(writesBefore + 1, kv.engine.writeCalls(), "one atomic engine write");
        assertEquals("1", kv.value("a"));
        assertEquals("2", kv.value("b"));
        assertEquals("3", kv.value("c"));
    }

    @Test
    void multiPutWithOneInvalidKeyChangesNothing() {
        client.put("a", "before");
        int writesBefore = kv.engine.writeCalls();
        KvReply reply = client.multiPut("a", "after", "", "empty-key", "c", "3");
        assertEquals(Status.INVALID_ARGUMENT, reply.getStatus());
        assertTrue(reply.getMessage().contains("entries[1].key is empty"), reply.getMessage());
        assertEquals(writesBefore, kv.engine.writeCalls());
        assertEquals("before", kv.value("a"));
        assertNull(kv.value("c"));
    }

    @Test
    void multiPutWithDuplicateKeysChangesNothing() {
        KvReply reply = client.multiPut("a", "1", "b", "2", "a", "3");
        assertEquals(Status.INVALID_ARGUMENT, reply.getStatus());
        assertTrue(reply.getMessage().contains("duplicate"), reply.getMessage());
        assertNull(kv.value("a"));
        assertNull(kv.value("b"));
    }

    @Test
    void multiGetReturnsEntriesInRequestOrderWithAbsentOnesMarked() {
        client.multiPut("a", "1", "c", "3");
        KvReply reply = kv.multiGet("c", "b", "a");
        assertEquals(Status.OK, reply.getStatus());
        List<MultiGetEntry> entries = reply.getMultiGet().getEntriesList();
        assertEquals(3, entries.size());
        assertEquals("c", entries.get(0).getKey().toStringUtf8());
        assertTrue(entries.get(0).getFound());
        assertEquals("3", entries.get(0).getValue().toStringUtf8());
        assertFalse(entries.get(1).getFound());
        assertEquals("1", entries.get(2).getValue().toStringUtf8());
    }

    @Test
    void multiGetOverReplyBudgetIsRefused() {
        KvFixture small = new KvFixture(KvLimits.defaults().withMaxReplyBytes(10), SessionPolicy.defaults());
        KvFixture.Client writer = small.client();
        writer.put("a", "12345");
        writer.put("b", "12345");
        assertEquals(Status.OK, small.multiGet("a").getStatus());
        KvReply reply = small.multiGet("a", "b");
        assertEquals(Status.RESOURCE_EXHAUSTED, reply.getStatus());
        assertTrue(reply.getMessage().contains("maxReplyBytes"), reply.getMessage());
    }

    @Test
    void readRefusesWriteOperations() {
        KvReply reply = kv.machine.read(KvRequest.newBuilder()
                .setPut(Put.newBuilder().setKey(bytes("k")).setValue(bytes("v"))).build());
        assertEquals(Status.INVALID_ARGUMENT, reply.getStatus());
        assertNull(kv.value("k"));
    }

    @Test
    void readValidatesTheRequest() {
        KvReply reply = kv.machine.read(KvRequest.newBuilder().setGet(Get.newBuilder()).build());
        assertEquals(Status.INVALID_ARGUMENT, reply.getStatus());
        assertEquals("key is empty", reply.getMessage());
    }

    @Test
    void batchAppliesEveryCommandInOrderAtOneIndex() {
        Command first = client.next().setPut(Put.newBuilder().setKey(bytes("k")).setValue(bytes("1"))).build();
        Command second = client.next().setPut(Put.newBuilder().setKey(bytes("k")).setValue(bytes("2"))).build();
        long index = kv.index + 1;
        List<KvReply> replies = kv.machine.apply(index,
                CommandBatch.newBuilder().addCommands(first).addCommands(second).build());
        assertEquals(2, replies.size());
        assertFalse(replies.get(0).getPut().getExisted());
        assertTrue(replies.get(1).getPut().getExisted());
        assertEquals("2", kv.value("k"));
        assertEquals(index, kv.machine.lastAppliedIndex());
    }

    @Test
    void applyEntryDecodesABatch() {
        Command put = client.next().setPut(Put.newBuilder().setKey(bytes("k")).setValue(bytes("v"))).build();
        ByteString data = CommandBatch.newBuilder().addCommands(put).build().toByteString();
        List<KvReply> replies = kv.machine.applyEntry(kv.index + 1, data);
        assertEquals(1, replies.size());
        assertEquals(Status.OK, replies.get(0).getStatus());
        assertEquals("v", kv.value("k"));
    }

    @Test
    void applyEntryRefusesUndecodableDataButCountsTheIndex() {
        ByteString garbage = ByteString.copyFrom(new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF});
        List<KvReply> replies = kv.machine.applyEntry(42, garbage);
        assertEquals(1, replies.size());
        assertEquals(Status.INVALID_ARGUMENT, replies.get(0).getStatus());
        assertEquals(42, kv.machine.lastAppliedIndex());
    }

    @Test
    void applyingAnIndexTwiceOrBackwardsIsABug() {
        kv.machine.skip(10);
        Command open = kv.stamped().setOpenSession(OpenSession.getDefaultInstance()).build();
        IllegalStateException same = assertThrows(IllegalStateException.class, () -> kv.machine.apply(10, open));
        assertTrue(same.getMessage().contains("10"), same.getMessage());
        assertThrows(IllegalStateException.class, () -> kv.machine.skip(9));
        assertEquals(10, kv.machine.lastAppliedIndex());
    }

    @Test
    void skipAdvancesTheAppliedIndexOverEntriesWithoutCommands() {
        long before = kv.machine.lastAppliedIndex();
        kv.machine.skip(before + 5);
        assertEquals(before + 5, kv.machine.lastAppliedIndex());
    }

    @Test
    void newStateMachineRequiresAnEmptyEngine() {
        InMemoryKvEngine engine = new InMemoryKvEngine();
        engine.put(SlotKeys.engineKey(bytes("k")), "v".getBytes());
        assertThrows(IllegalArgumentException.class,
                () -> new KvStateMachine(engine, KvLimits.defaults(), SessionPolicy.defaults(), 1, SlotSet.all()));
    }

    @Test
    void sessionIdsAreHandedOutInOrder() {
        long second = kv.openSession();
        long third = kv.openSession();
        assertEquals(client.clientId + 1, second);
        assertEquals(second + 1, third);
    }
}
