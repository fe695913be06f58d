package io.loomkv.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.loomkv.core.engine.KvEngine;
import io.loomkv.core.engine.PersistentKvEngine;
import io.loomkv.core.kv.KvLimits;
import io.loomkv.core.kv.KvStateMachine;
import io.loomkv.core.kv.SessionPolicy;
import io.loomkv.core.kv.proto.Append;
import io.loomkv.core.kv.proto.Command;
import io.loomkv.core.kv.proto.CommandBatch;
import io.loomkv.core.kv.proto.CompareAndSet;
import io.loomkv.core.kv.proto.Delete;
import io.loomkv.core.kv.proto.KeyValue;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.MultiPut;
import io.loomkv.core.kv.proto.OpenSession;
import io.loomkv.core.kv.proto.Put;
import io.loomkv.core.kv.proto.Scan;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.core.shard.SlotSet;
import io.loomkv.persist.engine.MemoryKvEngine;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The same seeded stream of log entries applied to a state machine on the memory engine and to one
 * on a persistent engine that is closed and reopened now and then: every reply and the final
 * contents must be the same. The stream has several commands per entry on a few keys (so commands
 * read each other's writes within an entry), retries of old sequences, a small session table (so
 * sessions are evicted, in LRU order) and clock jumps past the session timeout (so they expire). A
 * failure names the seed; rerun with {@code -Dloomkv.equivalence.seed=N}.
 */
class DurableStateMachineEquivalenceTest {
    private static final long GROUP = 3;
    private static final int ENTRIES = 1_500;
    private static final int KEYS = 12;
    private static final SessionPolicy POLICY = new SessionPolicy(10_000, 4, 16);

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"rocksdb", "btree", "bitcask"})
    void repliesAndContentsMatchTheMemoryEngineAcrossReopens(String name) {
        long seed = Long.getLong("loomkv.equivalence.seed", 20261206L);
        Random random = new Random(seed);
        Path directory = dir.resolve(name);
        KvStateMachine reference = machine(new MemoryKvEngine(), false);
        PersistentKvEngine engine = TestEngines.open(name, directory, false);
        KvStateMachine durable = machine(engine, true);
        List<long[]> clients = new ArrayList<>(); // {clientId, next sequence}
        long clock = 1_000_000;
        try {
            for (long index = 1; index <= ENTRIES; index++) {
                String context = "seed " + seed + ", entry " + index;
                if (random.nextInt(300) == 0) {
                    clock += POLICY.sessionTimeoutMillis() + 1; // every idle session expires at the next command
                } else {
                    clock += random.nextInt(50);
                }
                CommandBatch entry = entry(random, clients, clock);
                List<KvReply> expected = reference.apply(index, entry);
                List<KvReply> actual = durable.apply(index, entry);
                assertEquals(expected, actual, context);
                for (int i = 0; i < expected.size(); i++) {
                    if (entry.getCommands(i).hasOpenSession() && expected.get(i).getStatus() == Status.OK) {
                        clients.add(new long[] {expected.get(i).getOpenSession().getClientId(), 1});
                    }
                }
                if (random.nextInt(25) == 0) {
                    engine.close();
                    engine = TestEngines.open(name, directory, false);
                    durable = machine(engine, true);
                    assertEquals(index, durable.lastAppliedIndex(), context);
                    assertEquals(reference.sessionCount(), durable.sessionCount(), context + ": sessions after reopen");
                }
            }
            assertEquals(scanAll(reference), scanAll(durable), "seed " + seed + ": final contents");
        } finally {
            engine.close();
        }
    }

    private static KvStateMachine machine(KvEngine engine, boolean persistent) {
        return persistent
                ? KvStateMachine.onPersistentEngine((PersistentKvEngine) engine, KvLimits.defaults(), POLICY, GROUP, SlotSet.all())
                : new KvStateMachine(engine, KvLimits.defaults(), POLICY, GROUP, SlotSet.all());
    }

    /** One to four commands: opens, writes of known clients (sometimes retries of old sequences), writes of forgotten ids. */
    private static CommandBatch entry(Random random, List<long[]> clients, long clock) {
        CommandBatch.Builder batch = CommandBatch.newBuilder();
        int commands = 1 + random.nextInt(4);
        for (int c = 0; c < commands; c++) {
            Command.Builder command = Command.newBuilder().setTimestampMillis(clock);
            if (clients.isEmpty() || random.nextInt(25) == 0) {
                batch.addCommands(command.setOpenSession(OpenSession.getDefaultInstance()));
                continue;
            }
            // Mostly the newest few clients: some of their sessions live, some were evicted by newer ones.
            long[] client = clients.get(clients.size() - 1 - random.nextInt(Math.min(6, clients.size())));
            long sequence = random.nextInt(8) == 0 && client[1] > 1 ? 1 + random.nextInt((int) client[1] - 1) : client[1]++;
            command.setClientId(client[0]).setSequence(sequence).setAcknowledgedBelow(Math.max(1, client[1] - 3));
            batch.addCommands(operation(random, command));
        }
        return batch.build();
    }

    private static Command.Builder operation(Random random, Command.Builder command) {
        ByteString key = bytes("k" + random.nextInt(KEYS));
        ByteString value = bytes("v" + random.nextInt(1_000));
        return switch (random.nextInt(6)) {
            case 0 -> command.setPut(Put.newBuilder().setKey(key).setValue(value));
            case 1 -> command.setAppend(Append.newBuilder().setKey(key).setValue(value));
            case 2 -> command.setDelete(Delete.newBuilder().setKey(key));
            case 3 -> command.setCompareAndSet(CompareAndSet.newBuilder().setKey(key).setExpectAbsent(true).setNewValue(value));
            case 4 -> command.setCompareAndSet(CompareAndSet.newBuilder().setKey(key).setExpectedValue(value).setNewValue(value));
            default -> command.setMultiPut(MultiPut.newBuilder()
                    .addEntries(KeyValue.newBuilder().setKey(key).setValue(value))
                    .addEntries(KeyValue.newBuilder().setKey(bytes("k" + random.nextInt(KEYS))).setValue(value)));
        };
    }

    private static KvReply scanAll(KvStateMachine machine) {
        return machine.read(KvRequest.newBuilder().setScan(Scan.newBuilder().setPrefix(ByteString.EMPTY).setLimit(1_000)).build());
    }

    private static ByteString bytes(String text) {
        return ByteString.copyFrom(text, StandardCharsets.UTF_8);
    }
}
