package io.loomkv.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
import io.loomkv.core.kv.proto.Get;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
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
