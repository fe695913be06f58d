package io.loomkv.core.kv;

import static io.loomkv.core.kv.KvFixture.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import io.loomkv.core.kv.proto.Append;
import io.loomkv.core.kv.proto.Command;
import io.loomkv.core.kv.proto.DataChunk;
import io.loomkv.core.kv.proto.KeyValue;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.SnapshotHeader;
import io.loomkv.core.kv.proto.SnapshotRecord;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.core.shard.GroupIds;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.SlotSet;
import io.loomkv.core.shard.Slots;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class KvSnapshotTest {

    private static final SessionPolicy POLICY = new SessionPolicy(60_000, 100, 8);

    private final KvFixture source = new KvFixture(KvLimits.defaults(), POLICY);

    private static byte[] snapshotOf(KvFixture kv) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        kv.machine.writeSnapshot(out);
        return out.toByteArray();
    }

    private static KvFixture restoredFrom(byte[] snapshot) throws IOException {
        KvFixture target = new KvFixture(KvLimits.defaults(), POLICY);
        target.machine.restore(new ByteArrayInputStream(snapshot));
        target.index = target.machine.lastAppliedIndex();
        return target;
    }

    private static Command appendCommand(KvFixture.Client client, String key, String value) {
        return client.next().setAppend(Append.newBuilder().setKey(bytes(key)).setValue(bytes(value))).build();
    }

    @Test
    void roundTripRestoresDataIndexClockAndSessions() throws IOException {
        KvFixture.Client client = source.client();
        for (int i = 0; i < 500; i++) {
            client.put(String.format("key/%04d", i), "value-" + i);
        }
        client.delete("key/0007");
        source.nowMillis += 1234;
        source.client().put("other", "x");
        byte[] snapshot = snapshotOf(source);

        KvFixture restored = restoredFrom(snapshot);
        assertEquals(source.engine.contents(), restored.engine.contents());
        assertEquals(499 + 1, restored.engine.contents().size());
        assertEquals(source.machine.lastAppliedIndex(), restored.machine.lastAppliedIndex());
        assertEquals(source.machine.clockMillis(), restored.machine.clockMillis());
        assertEquals(2, restored.machine.sessionCount());
        assertArrayEquals(snapshot, snapshotOf(restored), "a restored machine writes the same snapshot");
    }

    @Test
    void retriedWriteAfterRestoreIsStillDeduplicated() throws IOException {
        KvFixture.Client client = source.client();
        Command command = appendCommand(client, "counter", "+");
        KvReply original = source.apply(command);
        KvFixture restored = restoredFrom(snapshotOf(source));
        KvReply retried = restored.apply(command);
        assertEquals(original, retried);
        assertEquals("+", restored.value("counter"));
    }

    @Test
    void restoredMachineContinuesExactlyLikeTheOriginal() throws IOException {
        KvFixture.Client first = source.client();
        KvFixture.Client second = source.client();
        first.put("a", "1");
        second.put("b", "1");
        KvFixture restored = restoredFrom(snapshotOf(source));
        // The same log suffix on both: new sessions get the same ids, expiry hits the same sessions.
        for (KvFixture kv : new KvFixture[] {source, restored}) {
            kv.nowMillis = source.nowMillis + 30_000;
        }
        Command write = source.stamped().setClientId(second.clientId).setSequence(2).setAcknowledgedBelow(2)
                .setAppend(Append.newBuilder().setKey(bytes("b")).setValue(bytes("2"))).build();
        assertEquals(source.apply(write), restored.apply(write));
        assertEquals(source.openSession(), restored.openSession());
        source.nowMillis += 40_000;
        restored.nowMillis = source.nowMillis;
        Command late = source.stamped().setClientId(first.clientId).setSequence(2).setAcknowledgedBelow(2)
                .setAppend(Append.newBuilder().setKey(bytes("a")).setValue(bytes("2"))).build();
        KvReply sourceReply = source.apply(late);
        assertEquals(Status.SESSION_EXPIRED, sourceReply.getStatus());
        assertEquals(sourceReply, restored.apply(late));
        assertEquals(source.engine.contents(), restored.engine.contents());
    }

    @Test
    void cachedRepliesOfPipelinedWritesSurviveRestore() throws IOException {
        long clientId = source.openSession();
        Command.Builder base = source.stamped().setClientId(clientId).setAcknowledgedBelow(1);
        Command one = base.clone().setSequence(1)
                .setAppend(Append.newBuilder().setKey(bytes("k")).setValue(bytes("a"))).build();
        Command two = base.clone().setSequence(2)
                .setAppend(Append.newBuilder().setKey(bytes("k")).setValue(bytes("b"))).build();
        source.apply(two);
        source.apply(one);
        KvFixture restored = restoredFrom(snapshotOf(source));
        assertEquals(1, restored.apply(two).getAppend().getNewLengthBytes());
        assertEquals(2, restored.apply(one).getAppend().getNewLengthBytes());
        assertEquals("ba", restored.value("k"));
    }

    @Test
    void largeDataIsSplitIntoBoundedChunks() throws IOException {
        KvFixture.Client client = source.client();
        String value = "v".repeat(100_000);
        for (int i = 0; i < 40; i++) {
            client.put("big/" + i, value);
        }
        byte[] snapshot = snapshotOf(source);
        KvFixture restored = restoredFrom(snapshot);
        assertEquals(source.engine.contents(), restored.engine.contents());
        int maxRecord = KvSnapshotCodec.maxRecordBytes(KvLimits.defaults());
        int dataRecords = 0;
        var in = com.google.protobuf.CodedInputStream.newInstance(snapshot);
        while (!in.isAtEnd()) {
            int length = in.readUInt32();
            assertTrue(length <= maxRecord);
            SnapshotRecord record = SnapshotRecord.parseFrom(in.readRawBytes(length));
            if (record.hasData()) {
                dataRecords++;
            }
        }
        assertTrue(dataRecords >= 4, "4 MB of values in 1 MiB chunks, got " + dataRecords + " chunks");
    }

    @Test
    void emptyStateRoundTrips() throws IOException {
        KvFixture empty = new KvFixture(KvLimits.defaults(), POLICY);
        KvFixture restored = restoredFrom(snapshotOf(empty));
        assertEquals(0, restored.machine.lastAppliedIndex());
        assertEquals(0, restored.machine.sessionCount());
        assertTrue(restored.engine.contents().isEmpty());
    }

    @Test
    void capturedSnapshotIsPointInTimeWhileApplyGoesOn() throws IOException {
        KvFixture.Client client = source.client();
        client.put("a", "1");
        Command retried = appendCommand(client, "log", "x");
        KvReply original = source.apply(retried);
        TreeMap<ByteString, ByteString> contentsAtCapture = source.engine.contents();
        long indexAtCapture = source.machine.lastAppliedIndex();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (KvSnapshot snapshot = source.machine.snapshot()) {
            assertEquals(indexAtCapture, snapshot.lastAppliedIndex());
            // Apply goes on after the capture: more data, a new session, a newer cached reply.
            client.put("a", "2");
            client.put("b", "1");
            source.openSession();
            snapshot.writeTo(out);
            assertThrows(IllegalStateException.class, () -> snapshot.writeTo(new ByteArrayOutputStream()));
        }
        KvFixture restored = restoredFrom(out.toByteArray());
        assertEquals(contentsAtCapture, restored.engine.contents());
        assertEquals(indexAtCapture, restored.machine.lastAppliedIndex());
        assertEquals(1, restored.machine.sessionCount());
        assertEquals(original, restored.apply(retried), "the reply cached at capture time is in the snapshot");
    }

    /** Group 1's n-th session id. */
    private static long sessionId(long n) {
        return GroupIds.firstClientId(1) - 1 + n;
    }

    @Test
    void inconsistentSessionsAreRefused() throws IOException {
        SnapshotRecord header = SnapshotRecord.newBuilder().setHeader(SnapshotHeader.newBuilder()
                .setFormatVersion(KvSnapshotCodec.FORMAT_VERSION).setLastAppliedIndex(5).setClockMillis(100)
                .setNextClientId(sessionId(3))).build();
        SnapshotRecord first = session(sessionId(1), 50);
        assertRestoreFailsAndStateIsUntouched(frame(header, first, first), "duplicate session");
        assertRestoreFailsAndStateIsUntouched(frame(header, session(sessionId(2), 60), session(sessionId(1), 50)),
                "least-recently-used");
        assertRestoreFailsAndStateIsUntouched(frame(header, session(sessionId(3), 50)), "next client id");
        assertRestoreFailsAndStateIsUntouched(frame(header, session(sessionId(1), 150)), "after the snapshot's clock");
        SnapshotRecord withReply = SnapshotRecord.newBuilder().setSession(
                first.getSession().toBuilder().setReplyCount(1)).build();
        assertRestoreFailsAndStateIsUntouched(frame(header, withReply, first), "expected a cached reply");
        SnapshotRecord tooManyReplies = SnapshotRecord.newBuilder().setSession(
                first.getSession().toBuilder().setReplyCount(POLICY.maxUnacknowledgedReplies() + 1)).build();
        assertRestoreFailsAndStateIsUntouched(frame(header, tooManyReplies), "announces");
    }

    private static SnapshotRecord session(long clientId, long lastActiveMillis) {
        return SnapshotRecord.newBuilder().setSession(io.loomkv.core.kv.proto.SessionState.newBuilder()
                .setClientId(clientId).setLastActiveMillis(lastActiveMillis).setAcknowledgedBelow(1)).build();
    }

    // ------------------------------------------------------------------------------------------
    // Damage: every failure leaves the machine being restored into exactly as it was.

    /** A target with state of its own, to prove a failed restore does not touch it. */
    private static KvFixture occupiedTarget() {
        KvFixture target = new KvFixture(KvLimits.defaults(), POLICY);
        target.client().put("mine", "untouched");
        return target;
    }

    private static void assertRestoreFailsAndStateIsUntouched(byte[] damaged, String expectedMessagePart) {
        KvFixture target = occupiedTarget();
        TreeMap<ByteString, ByteString> before = target.engine.contents();
        long index = target.machine.lastAppliedIndex();
        long clock = target.machine.clockMillis();
        int sessions = target.machine.sessionCount();
        CorruptSnapshotException error = assertThrows(CorruptSnapshotException.class,
                () -> target.machine.restore(new ByteArrayInputStream(damaged)));
        assertTrue(error.getMessage().contains(expectedMessagePart),
                "message '" + error.getMessage() + "' should mention '" + expectedMessagePart + "'");
        assertEquals(before, target.engine.contents());
        assertEquals(index, target.machine.lastAppliedIndex());
        assertEquals(clock, target.machine.clockMillis());
        assertEquals(sessions, target.machine.sessionCount());
        assertEquals("untouched", target.value("mine"));
    }

    private byte[] sampleSnapshot() throws IOException {
        KvFixture.Client client = source.client();
        for (int i = 0; i < 200; i++) {
            client.put("key/" + i, "value-" + i);
        }
        return snapshotOf(source);
    }

    @Test
    void truncatedSnapshotIsRefusedAtEveryCutPoint() throws IOException {
        byte[] snapshot = sampleSnapshot();
        for (int cut = 0; cut < snapshot.length; cut += Math.max(1, snapshot.length / 97)) {
            assertRestoreFailsAndStateIsUntouched(Arrays.copyOf(snapshot, cut), cut == 0 ? "empty" : "truncated");
        }
        assertRestoreFailsAndStateIsUntouched(Arrays.copyOf(snapshot, snapshot.length - 1), "truncated");
    }

    @Test
    void flippedBitAnywhereIsDetected() throws IOException {
        byte[] snapshot = sampleSnapshot();
        for (int position = 0; position < snapshot.length; position += Math.max(1, snapshot.length / 89)) {
            byte[] damaged = snapshot.clone();
            damaged[position] ^= 0x10;
            KvFixture target = occupiedTarget();
            TreeMap<ByteString, ByteString> before = target.engine.contents();
            assertThrows(CorruptSnapshotException.class,
                    () -> target.machine.restore(new ByteArrayInputStream(damaged)),
                    "flip at byte " + position);
            assertEquals(before, target.engine.contents());
            assertEquals(1, target.machine.sessionCount());
        }
    }

    @Test
    void bytesAfterTheTrailerAreRefused() throws IOException {
        byte[] snapshot = sampleSnapshot();
        byte[] extended = Arrays.copyOf(snapshot, snapshot.length + 2);
        extended[snapshot.length] = 0;
        assertRestoreFailsAndStateIsUntouched(extended, "after the trailer");
    }

    @Test
    void oversizedRecordLengthIsRefusedBeforeReading() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        CodedOutputStream coded = CodedOutputStream.newInstance(out);
        coded.writeUInt32NoTag(Integer.MAX_VALUE);
        coded.flush();
        assertRestoreFailsAndStateIsUntouched(out.toByteArray(), "over the bound");
    }

    @Test
    void garbageIsRefused() {
        assertRestoreFailsAndStateIsUntouched("not a snapshot at all".getBytes(), "snapshot");
    }

    @Test
    void wellFramedButInconsistentStreamsAreRefused() throws IOException {
        SnapshotRecord header = SnapshotRecord.newBuilder().setHeader(SnapshotHeader.newBuilder()
                .setFormatVersion(KvSnapshotCodec.FORMAT_VERSION).setLastAppliedIndex(5).setClockMillis(10)
                .setNextClientId(sessionId(1))).build();
        assertRestoreFailsAndStateIsUntouched(frame(header.toBuilder()
                .setHeader(header.getHeader().toBuilder().setFormatVersion(99)).build()), "format version");
        assertRestoreFailsAndStateIsUntouched(frame(header), "before the trailer");
        SnapshotRecord unordered = SnapshotRecord.newBuilder().setData(DataChunk.newBuilder()
                .addEntries(KeyValue.newBuilder().setKey(engineKey("{t}b")))
                .addEntries(KeyValue.newBuilder().setKey(engineKey("{t}a")))).build();
        assertRestoreFailsAndStateIsUntouched(frame(header, unordered), "out of order");
        assertRestoreFailsAndStateIsUntouched(frame(unordered), "not a header");
    }

    // ------------------------------------------------------------------------------------------
    // Slots: engine keys in the stream, groups in the session ids.

    @Test
    void roundTripOverManySlotsKeepsEveryKeyAndTheScanOrder() throws IOException {
        SlotSet owned = SlotLayout.evenSplit(1, 4, List.of(1L), 1).slotsOf(3);
        KvFixture group = new KvFixture(KvLimits.defaults(), POLICY, 3, owned);
        KvFixture.Client client = group.client();
        Set<Integer> slots = new HashSet<>();
        for (int i = 0; i < 1200; i++) {
            if (client.put("many/" + i, "v" + i).getStatus() == Status.OK) {
                slots.add(Slots.slotOf(bytes("many/" + i)));
            }
        }
        assertTrue(slots.size() > 200, "keys in " + slots.size() + " slots");
        KvFixture restored = new KvFixture(KvLimits.defaults(), POLICY, 3, owned);
        restored.machine.restore(new ByteArrayInputStream(snapshotOf(group)));
        restored.index = restored.machine.lastAppliedIndex();
        assertEquals(group.engine.contents(), restored.engine.contents());
        assertEquals(group.userContents(), restored.userContents());
        KvReply scan = restored.scanPrefix("many/", 10_000, ByteString.EMPTY);
        assertEquals(new ArrayList<>(group.userContents().keySet()),
                scan.getScan().getEntriesList().stream().map(KeyValue::getKey).toList());
        assertEquals(group.openSession(), restored.openSession(), "the group's session counter carries over");
    }

    @Test
    void aSnapshotFromBeforeSlotsIsRefusedWithTheReason() throws IOException {
        SnapshotRecord oldHeader = SnapshotRecord.newBuilder().setHeader(SnapshotHeader.newBuilder()
                .setFormatVersion(1).setLastAppliedIndex(5).setClockMillis(10).setNextClientId(1)).build();
        SnapshotRecord oldData = SnapshotRecord.newBuilder().setData(DataChunk.newBuilder()
                .addEntries(KeyValue.newBuilder().setKey(bytes("plain")))).build();
        assertRestoreFailsAndStateIsUntouched(frame(oldHeader, oldData),
                "format version 1 stores keys without their slot");
    }

    @Test
    void malformedEngineKeysAreRefused() throws IOException {
        SnapshotRecord header = SnapshotRecord.newBuilder().setHeader(SnapshotHeader.newBuilder()
                .setFormatVersion(KvSnapshotCodec.FORMAT_VERSION).setLastAppliedIndex(5).setClockMillis(10)
                .setNextClientId(sessionId(1))).build();
        byte[] misfiled = SlotKeys.inSlot(Slots.slotOf(bytes("k")) ^ 1, bytes("k"));
        assertRestoreFailsAndStateIsUntouched(frame(header, data(ByteString.copyFrom(new byte[] {0, 7}))),
                "holds no user key");
        assertRestoreFailsAndStateIsUntouched(frame(header, data(ByteString.copyFrom(new byte[] {(byte) 0x80, 0, 'k'}))),
                "is not a slot");
        // 0x40..0x7F hold key deadlines: the key under one must be well formed, its value 8 bytes.
        assertRestoreFailsAndStateIsUntouched(frame(header, data(ByteString.copyFrom(new byte[] {0x40, 0, 'k'}))),
                "deadline of a malformed key");
        assertRestoreFailsAndStateIsUntouched(frame(header, data(ByteString.copyFrom(DeadlineKeys.of(
                SlotKeys.engineKey(bytes("k")))))), "deadline value of 1 bytes");
        assertRestoreFailsAndStateIsUntouched(frame(header, data(ByteString.copyFrom(misfiled))), "stored under slot");
        assertRestoreFailsAndStateIsUntouched(frame(header, data(bytes("k"))), "key 0:");
    }

    private static SnapshotRecord data(ByteString key) {
        return SnapshotRecord.newBuilder().setData(DataChunk.newBuilder()
                .addEntries(KeyValue.newBuilder().setKey(key).setValue(bytes("v")))).build();
    }

    @Test
    void aSnapshotOfAnotherGroupIsRefused() throws IOException {
        KvFixture groupTwo = new KvFixture(KvLimits.defaults(), POLICY, 2, SlotSet.all());
        groupTwo.client().put("k", "v");
        assertRestoreFailsAndStateIsUntouched(snapshotOf(groupTwo), "does not fit group 1");
        SnapshotRecord header = SnapshotRecord.newBuilder().setHeader(SnapshotHeader.newBuilder()
                .setFormatVersion(KvSnapshotCodec.FORMAT_VERSION).setLastAppliedIndex(5).setClockMillis(100)
                .setNextClientId(sessionId(3))).build();
        assertRestoreFailsAndStateIsUntouched(frame(header, session(sessionId(3), 50)),
                "is not one of group 1's ids");
        // Sessions of other data groups may be imported with moved slots; group 0's never.
        assertRestoreFailsAndStateIsUntouched(frame(header, session(7, 50)), "is not one of group 1's ids");
    }

    private static ByteString engineKey(String userKey) {
        return ByteString.copyFrom(SlotKeys.engineKey(bytes(userKey)));
    }

    private static byte[] frame(SnapshotRecord... records) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SnapshotRecordWriter writer = new SnapshotRecordWriter(out, Integer.MAX_VALUE);
        for (SnapshotRecord record : records) {
            writer.write(record);
        }
        return out.toByteArray();
    }
}
