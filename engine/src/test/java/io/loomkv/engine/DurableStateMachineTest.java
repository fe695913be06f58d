package io.loomkv.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.core.engine.PersistentKvEngine;
import io.loomkv.core.engine.WriteBatch;
import io.loomkv.core.engine.WriteOp;
import io.loomkv.core.kv.KvLimits;
import io.loomkv.core.kv.KvStateMachine;
import io.loomkv.core.kv.SessionPolicy;
import io.loomkv.core.kv.proto.Append;
import io.loomkv.core.kv.proto.Command;
import io.loomkv.core.kv.proto.CommandBatch;
import io.loomkv.core.kv.proto.ExpireKeys;
import io.loomkv.core.kv.proto.Expiry;
import io.loomkv.core.kv.proto.FindExpired;
import io.loomkv.core.kv.proto.Get;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.MigrationRead;
import io.loomkv.core.kv.proto.MigrationWrite;
import io.loomkv.core.kv.proto.OpenSession;
import io.loomkv.core.kv.proto.Put;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.core.shard.SlotSet;
import io.loomkv.persist.engine.MemoryKvEngine;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The KV state machine on a persistent engine: every entry is one indexed batch with the sessions
 * it changed, so a reopened machine has the data, the applied index and the sessions of the last
 * entry, and a retry of a write applied before the restart gets its cached reply instead of being
 * applied again (the exactly-once argument of docs/engines.md).
 */
class DurableStateMachineTest {
    private static final long GROUP = 1;
    private static final long NOW_MILLIS = 1_000_000;

    @TempDir
    Path dir;

    private long index;

    private KvStateMachine open(PersistentKvEngine engine, SessionPolicy policy) {
        return KvStateMachine.onPersistentEngine(engine, KvLimits.defaults(), policy, GROUP, SlotSet.all());
    }

    private static Command.Builder stamped(long nowMillis) {
        return Command.newBuilder().setTimestampMillis(nowMillis);
    }

    private long openSession(KvStateMachine machine, long nowMillis) {
        KvReply reply = machine.apply(++index, stamped(nowMillis).setOpenSession(OpenSession.getDefaultInstance()).build());
        assertEquals(Status.OK, reply.getStatus(), reply.getMessage());
        return reply.getOpenSession().getClientId();
    }

    private static Command append(long clientId, long sequence, String key, String value, long nowMillis) {
        return stamped(nowMillis).setClientId(clientId).setSequence(sequence).setAcknowledgedBelow(sequence)
                .setAppend(Append.newBuilder().setKey(bytes(key)).setValue(bytes(value))).build();
    }

    private static Command put(long clientId, long sequence, String key, String value) {
        return stamped(NOW_MILLIS).setClientId(clientId).setSequence(sequence).setAcknowledgedBelow(sequence)
                .setPut(Put.newBuilder().setKey(bytes(key)).setValue(bytes(value))).build();
    }

    private static String get(KvStateMachine machine, String key) {
        KvReply reply = machine.read(KvRequest.newBuilder().setGet(Get.newBuilder().setKey(bytes(key))).build());
        return reply.getStatus() == Status.NOT_FOUND ? null : reply.getGet().getValue().toStringUtf8();
    }

    private static ByteString bytes(String text) {
        return ByteString.copyFrom(text, StandardCharsets.UTF_8);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"rocksdb", "btree", "bitcask"})
    void aRetryAfterReopenGetsTheCachedReplyAndIsNotAppliedTwice(String name) {
        Path directory = dir.resolve(name);
        long clientId;
        KvReply first;
        try (PersistentKvEngine engine = TestEngines.open(name, directory, false)) {
            KvStateMachine machine = open(engine, SessionPolicy.defaults());
            clientId = openSession(machine, NOW_MILLIS);
            first = machine.apply(++index, append(clientId, 1, "log", "a,", NOW_MILLIS));
            assertEquals(Status.OK, first.getStatus(), first.getMessage());
            // Two commands in one entry: the second reads what the first wrote before the batch reaches the engine.
            machine.apply(++index, CommandBatch.newBuilder()
                    .addCommands(put(clientId, 2, "pair", "x"))
                    .addCommands(append(clientId, 3, "pair", "y", NOW_MILLIS)).build());
            assertEquals("xy", get(machine, "pair"));
        }
        try (PersistentKvEngine engine = TestEngines.open(name, directory, false)) {
            KvStateMachine machine = open(engine, SessionPolicy.defaults());
            assertEquals(index, machine.lastAppliedIndex(), "the engine's applied index");
            assertEquals(NOW_MILLIS, machine.clockMillis());
            assertEquals(1, machine.sessionCount());
            assertEquals("a,", get(machine, "log"));
            assertEquals("xy", get(machine, "pair"));
            // The same append again (a client retry that reached the log twice): answered from the session, not applied.
            KvReply retry = machine.apply(++index, append(clientId, 1, "log", "a,", NOW_MILLIS));
            assertEquals(Status.STALE_SEQUENCE, retry.getStatus(), "sequence 1 was acknowledged by sequence 3");
            KvReply retryOfLast = machine.apply(++index, append(clientId, 3, "pair", "y", NOW_MILLIS));
            assertEquals(Status.OK, retryOfLast.getStatus());
            assertEquals("xy", get(machine, "pair"), "the cached reply, not a second append");
            long secondClient = openSession(machine, NOW_MILLIS);
            assertEquals(clientId + 1, secondClient, "the next client id survives the restart");
        }
    }

    /**
     * Key deadlines are written with the entry that sets them and come back with the engine: after
     * a reopen the key still expires at the deadline set before (not one restarted from the
     * reopen), a key without one has none, and active expiry deletes the expired key from the
     * engine through an entry (so its bytes are reclaimed without a read).
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"rocksdb", "btree", "bitcask"})
    void deadlinesSurviveReopenAndActiveExpiryDeletesFromTheEngine(String name) {
        Path directory = dir.resolve(name);
        long deadline = NOW_MILLIS + 5_000;
        try (PersistentKvEngine engine = TestEngines.open(name, directory, false)) {
            KvStateMachine machine = open(engine, SessionPolicy.defaults());
            long clientId = openSession(machine, NOW_MILLIS);
            KvReply put = machine.apply(++index, stamped(NOW_MILLIS).setClientId(clientId).setSequence(1)
                    .setAcknowledgedBelow(1).setPut(Put.newBuilder().setKey(bytes("ttl")).setValue(bytes("v"))
                            .setExpiry(Expiry.newBuilder().setTtlMillis(5_000))).build());
            assertEquals(Status.OK, put.getStatus(), put.getMessage());
            machine.apply(++index, put(clientId, 2, "plain", "p"));
        }
        try (PersistentKvEngine engine = TestEngines.open(name, directory, false)) {
            KvStateMachine machine = open(engine, SessionPolicy.defaults());
            assertTrue(machine.deadlinesMayExist(), "a reopen finds the deadlines the engine holds");
            KvReply before = machine.read(getRequest("ttl"), deadline - 1);
            assertEquals(deadline, before.getGet().getExpiresAtMillis());
            assertEquals(Status.NOT_FOUND, machine.read(getRequest("ttl"), deadline).getStatus());
            assertEquals(0, machine.read(getRequest("plain"), deadline).getGet().getExpiresAtMillis());
            KvReply found = machine.read(KvRequest.newBuilder().setGroupId(GROUP).setMigrationRead(MigrationRead
                    .newBuilder().setFindExpired(FindExpired.getDefaultInstance())).build(), deadline);
            assertEquals(1, found.getMigration().getExpired().getKeysCount());
            KvReply expired = machine.apply(++index, stamped(deadline).setMigrationWrite(MigrationWrite.newBuilder()
                    .setExpireKeys(ExpireKeys.newBuilder().addAllKeys(found.getMigration().getExpired().getKeysList())))
                    .build());
            assertEquals(1, expired.getMigration().getExpired().getKeysCount(), expired.toString());
        }
        try (PersistentKvEngine engine = TestEngines.open(name, directory, false)) {
            KvStateMachine machine = open(engine, SessionPolicy.defaults());
            assertEquals(Status.NOT_FOUND, machine.read(getRequest("ttl"), 0).getStatus());
            assertEquals("p", get(machine, "plain"));
            KvReply walk = machine.read(KvRequest.newBuilder().setGroupId(GROUP).setMigrationRead(MigrationRead
                    .newBuilder().setFindExpired(FindExpired.getDefaultInstance())).build(), deadline);
            assertEquals(0, walk.getMigration().getExpired().getExamined(), "no deadline is left in the engine");
            assertFalse(machine.deadlinesMayExist());
        }
    }

    private static KvRequest getRequest(String key) {
        return KvRequest.newBuilder().setGet(Get.newBuilder().setKey(bytes(key))).build();
    }

    /**
     * Slot migration state is part of what an entry makes durable: a group that handed a slot off
     * reopens at the same configuration with the slot still frozen (not served) and its keys kept
     * until DeleteSlots, and a session of another group it adopted still answers a retry.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"rocksdb", "btree", "bitcask"})
    void slotOwnershipAndAdoptedSessionsSurviveReopen(String name) {
        Path directory = dir.resolve(name);
        int slot = io.loomkv.core.shard.Slots.slotOf(bytes("{m}"));
        long foreign = io.loomkv.core.shard.GroupIds.firstClientId(7);
        KvReply adopted;
        try (PersistentKvEngine engine = TestEngines.open(name, directory, false)) {
            KvStateMachine machine = open(engine, SessionPolicy.defaults());
            long clientId = openSession(machine, NOW_MILLIS);
            assertEquals(Status.OK, machine.apply(++index, put(clientId, 1, "{m}a", "1")).getStatus());
            adopted = machine.apply(++index, append(foreign, 1, "other", "x", NOW_MILLIS));
            assertEquals(Status.OK, adopted.getStatus(), adopted.getMessage());
            KvReply moved = machine.apply(++index, stamped(NOW_MILLIS).setMigrationWrite(
                    io.loomkv.core.kv.proto.MigrationWrite.newBuilder().setReconfigure(
                            io.loomkv.core.kv.proto.Reconfigure.newBuilder()
                                    .setConfig(layout(2, slot)).setPrevious(layout(1, -1)))).build());
            assertEquals(Status.OK, moved.getStatus(), moved.getMessage());
            assertEquals(2, machine.configNumber());
        }
        try (PersistentKvEngine engine = TestEngines.open(name, directory, false)) {
            KvStateMachine machine = open(engine, SessionPolicy.defaults());
            assertEquals(2, machine.configNumber(), "the configuration survives the reopen");
            assertFalse(machine.ownedSlots().contains(slot), "the handed-off slot stays frozen");
            assertEquals(Status.WRONG_GROUP, machine.read(KvRequest.newBuilder()
                    .setGet(Get.newBuilder().setKey(bytes("{m}a"))).build()).getStatus());
            assertEquals("1", new String(engine.get(io.loomkv.core.kv.SlotKeys.engineKey(bytes("{m}a"))),
                    StandardCharsets.UTF_8), "its keys are kept until deleted");
            KvReply retry = machine.apply(++index, append(foreign, 1, "other", "x", NOW_MILLIS));
            assertEquals(adopted, retry, "the adopted session's cached reply, not a second append");
            assertEquals("x", get(machine, "other"));
        }
    }

    /** Configuration {@code number}: every slot in group 1, except {@code movedSlot} (if not -1) in group 2. */
    private static io.loomkv.core.shard.proto.Layout layout(long number, int movedSlot) {
        var layout = io.loomkv.core.shard.proto.Layout.newBuilder().setVersion(number)
                .addGroups(io.loomkv.core.shard.proto.GroupReplicas.newBuilder().setGroupId(1).addStoreIds(1))
                .addGroups(io.loomkv.core.shard.proto.GroupReplicas.newBuilder().setGroupId(2).addStoreIds(1));
        if (movedSlot < 0) {
            return layout.addRanges(range(0, io.loomkv.core.shard.Slots.SLOT_COUNT - 1, 1)).build();
        }
        if (movedSlot > 0) {
            layout.addRanges(range(0, movedSlot - 1, 1));
        }
        layout.addRanges(range(movedSlot, movedSlot, 2));
        if (movedSlot < io.loomkv.core.shard.Slots.SLOT_COUNT - 1) {
            layout.addRanges(range(movedSlot + 1, io.loomkv.core.shard.Slots.SLOT_COUNT - 1, 1));
        }
        return layout.build();
    }

    private static io.loomkv.core.shard.proto.SlotRangeAssignment range(int first, int last, long group) {
        return io.loomkv.core.shard.proto.SlotRangeAssignment.newBuilder().setFirst(first).setLast(last).setGroupId(group)
                .build();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"rocksdb", "btree", "bitcask"})
    void theLeastRecentlyUsedOrderSurvivesReopen(String name) {
        Path directory = dir.resolve(name);
        SessionPolicy twoSessions = new SessionPolicy(SessionPolicy.DEFAULT_SESSION_TIMEOUT_MILLIS, 2,
                SessionPolicy.DEFAULT_MAX_UNACKNOWLEDGED_REPLIES);
        long older;
        long newer;
        try (PersistentKvEngine engine = TestEngines.open(name, directory, false)) {
            KvStateMachine machine = open(engine, twoSessions);
            older = openSession(machine, NOW_MILLIS);
            newer = openSession(machine, NOW_MILLIS);
            // Same clock: only the order of use tells the sessions apart. Using "older" makes "newer" the eviction candidate.
            assertEquals(Status.OK, machine.apply(++index, append(older, 1, "k", "1", NOW_MILLIS)).getStatus());
        }
        try (PersistentKvEngine engine = TestEngines.open(name, directory, false)) {
            KvStateMachine machine = open(engine, twoSessions);
            openSession(machine, NOW_MILLIS);
            assertEquals(Status.OK, machine.apply(++index, append(older, 2, "k", "2", NOW_MILLIS)).getStatus(),
                    "the session used last survives the eviction");
            assertEquals(Status.SESSION_EXPIRED, machine.apply(++index, append(newer, 1, "k", "3", NOW_MILLIS)).getStatus(),
                    "the least recently used session was evicted");
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"rocksdb", "btree", "bitcask"})
    void snapshotsLeaveTheMetadataOutAndRestoreIntoAnotherEngine(String name) throws Exception {
        ByteArrayOutputStream snapshot = new ByteArrayOutputStream();
        long clientId;
        try (PersistentKvEngine engine = TestEngines.open(name, dir.resolve("source"), false)) {
            KvStateMachine machine = open(engine, SessionPolicy.defaults());
            clientId = openSession(machine, NOW_MILLIS);
            for (int i = 1; i <= 20; i++) {
                machine.apply(++index, put(clientId, i, "key-" + i, "value-" + i));
            }
            machine.writeSnapshot(snapshot);
        }
        // The memory engine's restore checks every key is a well-formed data key: the metadata stayed out.
        KvStateMachine inMemory = new KvStateMachine(new MemoryKvEngine(), KvLimits.defaults(), SessionPolicy.defaults(), GROUP,
                SlotSet.all());
        inMemory.restore(new ByteArrayInputStream(snapshot.toByteArray()));
        assertEquals("value-7", get(inMemory, "key-7"));
        try (PersistentKvEngine engine = TestEngines.open(name, dir.resolve("target"), false)) {
            KvStateMachine machine = open(engine, SessionPolicy.defaults());
            machine.restore(new ByteArrayInputStream(snapshot.toByteArray()));
            assertEquals(index, engine.appliedIndex(GROUP), "restored with the snapshot's index");
        }
        try (PersistentKvEngine engine = TestEngines.open(name, dir.resolve("target"), false)) {
            KvStateMachine machine = open(engine, SessionPolicy.defaults());
            assertEquals(index, machine.lastAppliedIndex());
            assertEquals("value-20", get(machine, "key-20"));
            KvReply retry = machine.apply(++index, put(clientId, 20, "key-20", "changed"));
            assertEquals(Status.OK, retry.getStatus());
            assertEquals("value-20", get(machine, "key-20"), "the session came with the snapshot: the retry is answered from it");
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"rocksdb", "btree", "bitcask"})
    void anEngineWithKeysButNoIndexOfTheGroupIsRefused(String name) {
        try (PersistentKvEngine engine = TestEngines.open(name, dir.resolve(name), false)) {
            engine.write(new WriteBatch(List.of(new WriteOp.Put(new byte[] {0, 1, 'k'}, new byte[] {'v'}))), 2, 1);
            IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                    () -> open(engine, SessionPolicy.defaults()));
            assertEquals(true, refused.getMessage().contains("holds keys but no applied index for group 1"), refused.getMessage());
        }
    }
}
