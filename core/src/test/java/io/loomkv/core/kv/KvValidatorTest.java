package io.loomkv.core.kv;

import static io.loomkv.core.kv.KvFixture.bytes;
import static io.loomkv.core.kv.KvFixture.bytesOfSize;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.Append;
import io.loomkv.core.kv.proto.Command;
import io.loomkv.core.kv.proto.CompareAndSet;
import io.loomkv.core.kv.proto.Delete;
import io.loomkv.core.kv.proto.Get;
import io.loomkv.core.kv.proto.KeyRange;
import io.loomkv.core.kv.proto.KeyValue;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.MultiGet;
import io.loomkv.core.kv.proto.MultiPut;
import io.loomkv.core.kv.proto.OpenSession;
import io.loomkv.core.kv.proto.Put;
import io.loomkv.core.kv.proto.Scan;
import io.loomkv.core.kv.proto.Status;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class KvValidatorTest {

    private static final KvLimits SMALL = new KvLimits(8, 16, 3, 2, 5, 64, 1024);
    private final KvValidator validator = new KvValidator(SMALL);

    private static KvRequest.Builder write() {
        return KvRequest.newBuilder().setClientId(7).setSequence(3).setAcknowledgedBelow(3);
    }

    private static KvRequest put(ByteString key, ByteString value) {
        return write().setPut(Put.newBuilder().setKey(key).setValue(value)).build();
    }

    private String error(KvRequest request) {
        Optional<String> error = validator.checkRequest(request);
        assertTrue(error.isPresent(), "expected a refusal of " + request);
        return error.get();
    }

    private void valid(KvRequest request) {
        assertEquals(Optional.empty(), validator.checkRequest(request));
    }

    @Test
    void defaultsAreTheDocumentedValues() {
        KvLimits limits = KvLimits.defaults();
        assertEquals(4096, limits.maxKeyBytes());
        assertEquals(1024 * 1024, limits.maxValueBytes());
        assertEquals(1024, limits.maxKeysPerMultiOp());
        assertEquals(1000, limits.defaultScanLimit());
        assertEquals(10_000, limits.maxScanLimit());
        assertEquals(4 * 1024 * 1024, limits.maxRequestBytes());
        assertEquals(16 * 1024 * 1024, limits.maxReplyBytes());
        SessionPolicy policy = SessionPolicy.defaults();
        assertEquals(3_600_000, policy.sessionTimeoutMillis());
        assertEquals(100_000, policy.maxSessions());
        assertEquals(128, policy.maxUnacknowledgedReplies());
    }

    @Test
    void limitsRefuseNonsense() {
        assertThrows(IllegalArgumentException.class, () -> KvLimits.defaults().withMaxKeyBytes(0));
        assertThrows(IllegalArgumentException.class, () -> KvLimits.defaults().withScanLimits(11, 10));
        assertThrows(IllegalArgumentException.class, () -> KvLimits.defaults().withMaxRequestBytes(1024));
        assertThrows(IllegalArgumentException.class, () -> new SessionPolicy(0, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new SessionPolicy(1, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new SessionPolicy(1, 1, 0));
    }

    @Test
    void requestWithoutOperation() {
        assertEquals("request has no operation", error(KvRequest.getDefaultInstance()));
    }

    @Test
    void emptyKeyIsRefusedInEveryOperation() {
        assertEquals("key is empty", error(KvRequest.newBuilder().setGet(Get.getDefaultInstance()).build()));
        assertEquals("key is empty", error(put(ByteString.EMPTY, bytes("v"))));
        assertEquals("key is empty", error(write().setAppend(Append.newBuilder().setValue(bytes("v"))).build()));
        assertEquals("key is empty", error(write().setDelete(Delete.getDefaultInstance()).build()));
        assertEquals("key is empty", error(write().setCompareAndSet(
                CompareAndSet.newBuilder().setExpectAbsent(true)).build()));
        assertEquals("keys[1] is empty", error(KvRequest.newBuilder().setMultiGet(
                MultiGet.newBuilder().addKeys(bytes("a")).addKeys(ByteString.EMPTY)).build()));
    }

    @Test
    void keyAndValueSizeLimitsAreExactBoundaries() {
        valid(put(bytesOfSize(8, 'k'), bytesOfSize(16, 'v')));
        assertEquals("key of 9 bytes exceeds maxKeyBytes 8", error(put(bytesOfSize(9, 'k'), bytes("v"))));
        assertEquals("value of 17 bytes exceeds maxValueBytes 16", error(put(bytes("k"), bytesOfSize(17, 'v'))));
        assertEquals("value of 17 bytes exceeds maxValueBytes 16",
                error(write().setAppend(Append.newBuilder().setKey(bytes("k")).setValue(bytesOfSize(17, 'v'))).build()));
    }

    @Test
    void requestOverMaxRequestBytes() {
        KvValidator tight = new KvValidator(new KvLimits(8, 16, 100, 2, 5, 30, 1024));
        MultiPut.Builder multiPut = MultiPut.newBuilder();
        for (int i = 0; i < 5; i++) {
            multiPut.addEntries(KeyValue.newBuilder().setKey(bytes("key" + i)).setValue(bytes("value" + i)));
        }
        Optional<String> error = tight.checkRequest(write().setMultiPut(multiPut).build());
        assertTrue(error.isPresent() && error.get().contains("exceeds maxRequestBytes 30"), error.toString());
    }

    @Test
    void multiPutCommandIsHeldToTheRequestBoundToo() {
        // 3 entries of 8 + 16 bytes = 72 bytes of keys and values, over maxRequestBytes 64.
        MultiPut.Builder multiPut = MultiPut.newBuilder();
        for (int i = 0; i < 3; i++) {
            multiPut.addEntries(KeyValue.newBuilder().setKey(bytesOfSize(7, 'k').concat(bytes("" + i)))
                    .setValue(bytesOfSize(16, 'v')));
        }
        Command command = Command.newBuilder().setTimestampMillis(1).setClientId(1).setSequence(1)
                .setAcknowledgedBelow(1).setMultiPut(multiPut).build();
        assertEquals("multi_put keys and values exceed maxRequestBytes 64",
                validator.checkCommand(command).orElseThrow());
    }

    @Test
    void compareAndSetNeedsAnExpectation() {
        assertEquals("compare_and_set needs expected_value or expect_absent", error(write().setCompareAndSet(
                CompareAndSet.newBuilder().setKey(bytes("k")).setNewValue(bytes("v"))).build()));
        assertEquals("expect_absent must be true when given", error(write().setCompareAndSet(
                CompareAndSet.newBuilder().setKey(bytes("k")).setExpectAbsent(false)).build()));
        assertEquals("new_value of 17 bytes exceeds maxValueBytes 16", error(write().setCompareAndSet(
                CompareAndSet.newBuilder().setKey(bytes("k")).setExpectAbsent(true)
                        .setNewValue(bytesOfSize(17, 'v'))).build()));
        assertEquals("expected_value of 17 bytes exceeds maxValueBytes 16", error(write().setCompareAndSet(
                CompareAndSet.newBuilder().setKey(bytes("k")).setExpectedValue(bytesOfSize(17, 'v'))).build()));
    }

    @Test
    void multiOperationsNeedBetweenOneAndMaxKeys() {
        assertEquals("multi_get has no keys", error(KvRequest.newBuilder().setMultiGet(MultiGet.newBuilder()).build()));
        assertEquals("multi_put has no entries", error(write().setMultiPut(MultiPut.newBuilder()).build()));
        MultiGet.Builder fourKeys = MultiGet.newBuilder();
        MultiPut.Builder fourEntries = MultiPut.newBuilder();
        for (int i = 0; i < 4; i++) {
            fourKeys.addKeys(bytes("k" + i));
            fourEntries.addEntries(KeyValue.newBuilder().setKey(bytes("k" + i)));
        }
        assertEquals("multi_get has 4 keys, over maxKeysPerMultiOp 3",
                error(KvRequest.newBuilder().setMultiGet(fourKeys).build()));
        assertEquals("multi_put has 4 entries, over maxKeysPerMultiOp 3",
                error(write().setMultiPut(fourEntries).build()));
    }

    @Test
    void multiPutRefusesDuplicatesAndBadEntries() {
        MultiPut.Builder duplicate = MultiPut.newBuilder()
                .addEntries(KeyValue.newBuilder().setKey(bytes("a")))
                .addEntries(KeyValue.newBuilder().setKey(bytes("a")));
        assertEquals("multi_put has duplicate key at entries[1]", error(write().setMultiPut(duplicate).build()));
        MultiPut.Builder bigValue = MultiPut.newBuilder()
                .addEntries(KeyValue.newBuilder().setKey(bytes("a")).setValue(bytesOfSize(17, 'v')));
        assertEquals("entries[0].value of 17 bytes exceeds maxValueBytes 16",
                error(write().setMultiPut(bigValue).build()));
    }

    @Test
    void scanNeedsASelectionAndAnOrderedRange() {
        assertEquals("scan needs a prefix or a range", error(KvRequest.newBuilder().setScan(Scan.newBuilder()).build()));
        KvRequest backwards = KvRequest.newBuilder().setScan(Scan.newBuilder()
                .setRange(KeyRange.newBuilder().setStart(bytes("b")).setEnd(bytes("a")))).build();
        assertEquals("range.end is before range.start", error(backwards));
        valid(KvRequest.newBuilder().setScan(Scan.newBuilder()
                .setRange(KeyRange.newBuilder().setStart(bytes("b")))).build());
        valid(KvRequest.newBuilder().setScan(Scan.newBuilder().setPrefix(ByteString.EMPTY)).build());
    }

    @Test
    void scanLimitAndBoundSizes() {
        valid(KvRequest.newBuilder().setScan(Scan.newBuilder().setPrefix(bytes("p")).setLimit(5)).build());
        assertEquals("scan limit 6 exceeds maxScanLimit 5",
                error(KvRequest.newBuilder().setScan(Scan.newBuilder().setPrefix(bytes("p")).setLimit(6)).build()));
        assertEquals("scan limit 4294967295 exceeds maxScanLimit 5",
                error(KvRequest.newBuilder().setScan(Scan.newBuilder().setPrefix(bytes("p")).setLimit(-1)).build()));
        assertEquals("prefix of 9 bytes exceeds maxKeyBytes 8", error(KvRequest.newBuilder()
                .setScan(Scan.newBuilder().setPrefix(bytesOfSize(9, 'p'))).build()));
        assertEquals("resume_after of 9 bytes exceeds maxKeyBytes 8", error(KvRequest.newBuilder()
                .setScan(Scan.newBuilder().setPrefix(bytes("p")).setResumeAfter(bytesOfSize(9, 'p'))).build()));
        assertEquals("range.start of 9 bytes exceeds maxKeyBytes 8", error(KvRequest.newBuilder()
                .setScan(Scan.newBuilder().setRange(KeyRange.newBuilder().setStart(bytesOfSize(9, 's')))).build()));
    }

    @Test
    void writesNeedSessionFields() {
        Put put = Put.newBuilder().setKey(bytes("k")).build();
        assertEquals("write has no client_id (open a session first)",
                error(KvRequest.newBuilder().setSequence(1).setAcknowledgedBelow(1).setPut(put).build()));
        assertEquals("write has no sequence (sequences start at 1)",
                error(KvRequest.newBuilder().setClientId(1).setAcknowledgedBelow(1).setPut(put).build()));
        assertEquals("write has no acknowledged_below (1 when no reply has been received)",
                error(KvRequest.newBuilder().setClientId(1).setSequence(1).setPut(put).build()));
        assertEquals("acknowledged_below 5 is above the write's own sequence 4", error(
                KvRequest.newBuilder().setClientId(1).setSequence(4).setAcknowledgedBelow(5).setPut(put).build()));
        assertEquals("client_id, sequence and acknowledged_below must be below 2^63", error(
                KvRequest.newBuilder().setClientId(1).setSequence(-1).setAcknowledgedBelow(1).setPut(put).build()));
        valid(KvRequest.newBuilder().setOpenSession(OpenSession.getDefaultInstance()).build());
        valid(KvRequest.newBuilder().setGet(Get.newBuilder().setKey(bytes("k"))).build());
    }

    @Test
    void commandsNeedATimestamp() {
        Command unstamped = Command.newBuilder().setOpenSession(OpenSession.getDefaultInstance()).build();
        assertTrue(validator.checkCommand(unstamped).orElseThrow().contains("timestamp_millis"));
        Command openWithClient = unstamped.toBuilder().setTimestampMillis(5).setClientId(3).build();
        assertEquals("open_session must not carry client_id or sequence",
                validator.checkCommand(openWithClient).orElseThrow());
        assertEquals("command has no operation",
                validator.checkCommand(Command.newBuilder().setTimestampMillis(5).build()).orElseThrow());
    }

    @Test
    void invalidOperationInTheLogChangesNothingAndItsRefusalIsCached() {
        KvFixture kv = new KvFixture(SMALL, SessionPolicy.defaults());
        KvFixture.Client client = kv.client();
        int writesBefore = kv.engine.writeCalls();
        Command tooBig = client.next()
                .setPut(Put.newBuilder().setKey(bytes("k")).setValue(bytesOfSize(17, 'v'))).build();
        KvReply reply = kv.apply(tooBig);
        assertEquals(Status.INVALID_ARGUMENT, reply.getStatus());
        assertEquals("value of 17 bytes exceeds maxValueBytes 16", reply.getMessage());
        assertEquals(reply, kv.apply(tooBig), "a retry gets the same outcome");
        assertEquals(writesBefore, kv.engine.writeCalls());
        assertNull(kv.value("k"));
    }

    @Test
    void malformedEnvelopeInTheLogIsRefusedBeforeTouchingSessionsOrClock() {
        KvFixture kv = new KvFixture(SMALL, SessionPolicy.defaults());
        KvFixture.Client client = kv.client();
        long clockBefore = kv.machine.clockMillis();
        kv.nowMillis += 5000;
        KvReply reply = kv.apply(client.next().setAcknowledgedBelow(client.nextSequence + 5)
                .setPut(Put.newBuilder().setKey(bytes("k")).setValue(bytes("v"))).build());
        assertEquals(Status.INVALID_ARGUMENT, reply.getStatus());
        assertTrue(reply.getMessage().contains("acknowledged_below"), reply.getMessage());
        assertEquals(clockBefore, kv.machine.clockMillis(), "a refused envelope does not move the log clock");
        assertNull(kv.value("k"));
        // The sequence was not consumed: the well-formed write with it goes through.
        KvReply accepted = kv.apply(kv.stamped().setClientId(client.clientId).setSequence(client.nextSequence - 1)
                .setAcknowledgedBelow(client.nextSequence - 1)
                .setPut(Put.newBuilder().setKey(bytes("k")).setValue(bytes("v"))).build());
        assertEquals(Status.OK, accepted.getStatus());
    }

    @Test
    void commandsFromRequests() {
        KvRequest request = put(bytes("k"), bytes("v"));
        Command command = KvCommands.fromRequest(request, 123);
        assertEquals(123, command.getTimestampMillis());
        assertEquals(7, command.getClientId());
        assertEquals(3, command.getSequence());
        assertEquals(3, command.getAcknowledgedBelow());
        assertEquals(request.getPut(), command.getPut());
        assertTrue(KvCommands.isWrite(request));
        KvRequest get = KvRequest.newBuilder().setGet(Get.newBuilder().setKey(bytes("k"))).build();
        assertTrue(!KvCommands.isWrite(get));
        assertThrows(IllegalArgumentException.class, () -> KvCommands.fromRequest(get, 123));
        assertThrows(IllegalArgumentException.class, () -> KvCommands.fromRequest(request, 0));
        Command open = KvCommands.fromRequest(
                KvRequest.newBuilder().setOpenSession(OpenSession.getDefaultInstance()).build(), 9);
        assertTrue(open.hasOpenSession());
        assertEquals(Optional.empty(), validator.checkCommand(open));
    }

    @Test
    void notLeaderReplyCarriesTheHint() {
        KvReply reply = KvReplies.notLeader(3, "127.0.0.1:7003");
        assertEquals(Status.NOT_LEADER, reply.getStatus());
        assertEquals(3, reply.getLeaderId());
        assertEquals("127.0.0.1:7003", reply.getLeaderAddress());
        assertThrows(IllegalArgumentException.class, () -> KvReplies.error(Status.OK, "not an error"));
    }

    @Test
    void keyArithmetic() {
        assertEquals(bytes("ab\0"), KvKeys.successor(bytes("ab")));
        assertEquals(bytes("ac"), KvKeys.prefixEnd(bytes("ab")));
        ByteString withFf = ByteString.copyFrom(new byte[] {'a', (byte) 0xFF});
        assertEquals(bytes("b"), KvKeys.prefixEnd(withFf));
        assertEquals(ByteString.EMPTY, KvKeys.prefixEnd(ByteString.copyFrom(new byte[] {(byte) 0xFF, (byte) 0xFF})));
        assertEquals(ByteString.EMPTY, KvKeys.prefixEnd(ByteString.EMPTY));
        assertTrue(KvKeys.compare(ByteString.copyFrom(new byte[] {(byte) 0x80}), bytes("z")) > 0,
                "bytes compare unsigned");
        assertNull(validator.checkKey(bytes("k"), "key"));
    }
}
