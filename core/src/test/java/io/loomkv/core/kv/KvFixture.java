package io.loomkv.core.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
import io.loomkv.core.shard.SlotSet;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * Drives a state machine the way the runtime would: log indexes count up, the leader's clock
 * is explicit, and a sequential client numbers its writes and acknowledges each reply.
 */
final class KvFixture {

    final InMemoryKvEngine engine;
    KvStateMachine machine;
    long index;
    long nowMillis = 1_000_000;

    KvFixture() {
        this(KvLimits.defaults(), SessionPolicy.defaults());
    }

    /** Group 1, owning every slot. */
    KvFixture(KvLimits limits, SessionPolicy policy) {
        this(limits, policy, 1, SlotSet.all());
    }

    KvFixture(KvLimits limits, SessionPolicy policy, long groupId, SlotSet ownedSlots) {
        this.engine = new InMemoryKvEngine();
        this.machine = new KvStateMachine(engine, limits, policy, groupId, ownedSlots);
    }

    /**
     * The engine's contents by user key, in user-key order, checking on the way that every engine
     * key is well formed (stored under its own slot); key deadlines are checked and left out.
     */
    TreeMap<ByteString, ByteString> userContents() {
        TreeMap<ByteString, ByteString> byUserKey = new TreeMap<>(KvKeys.ORDER);
        for (Map.Entry<ByteString, ByteString> entry : engine.contents().entrySet()) {
            byte[] engineKey = entry.getKey().toByteArray();
            if (DeadlineKeys.isDeadlineKey(engineKey)) {
                assertEquals(null, DeadlineKeys.checkEntry(engineKey, entry.getValue().toByteArray()), "deadline " + entry.getKey());
                continue;
            }
            assertEquals(null, SlotKeys.checkEngineKey(engineKey), "engine key " + entry.getKey());
            byUserKey.put(SlotKeys.userKey(engineKey), entry.getValue());
        }
        return byUserKey;
    }

    static ByteString bytes(String s) {
        return ByteString.copyFrom(s, StandardCharsets.UTF_8);
    }

    static ByteString bytesOfSize(int size, char fill) {
        return ByteString.copyFrom(String.valueOf(fill).repeat(size), StandardCharsets.UTF_8);
    }

    /** Applies one command at the next log index. */
    KvReply apply(Command command) {
        return machine.apply(++index, command);
    }

    /** Stamps a command with the current leader time. */
    Command.Builder stamped() {
        return Command.newBuilder().setTimestampMillis(nowMillis);
    }

    long openSession() {
        KvReply reply = apply(stamped().setOpenSession(OpenSession.getDefaultInstance()).build());
        assertEquals(Status.OK, reply.getStatus(), reply.getMessage());
        return reply.getOpenSession().getClientId();
    }

    /** A client that sends one write at a time, acknowledging every reply it got. */
    Client client() {
        return new Client(openSession());
    }

    final class Client {
        final long clientId;
        long nextSequence = 1;

        Client(long clientId) {
            this.clientId = clientId;
        }

        /** The fixture whose machine this client writes to. */
        KvFixture fixture() {
            return KvFixture.this;
        }

        /** The next write's command (sequence assigned, previous replies acknowledged). */
        Command.Builder next() {
            long sequence = nextSequence++;
            return stamped().setClientId(clientId).setSequence(sequence).setAcknowledgedBelow(sequence);
        }

        KvReply put(String key, String value) {
            return apply(next().setPut(Put.newBuilder().setKey(bytes(key)).setValue(bytes(value))).build());
        }

        KvReply append(String key, String value) {
            return apply(next().setAppend(Append.newBuilder().setKey(bytes(key)).setValue(bytes(value))).build());
        }

        KvReply delete(String key) {
            return apply(next().setDelete(Delete.newBuilder().setKey(bytes(key))).build());
        }

        KvReply cas(String key, String expected, String newValue) {
            CompareAndSet.Builder cas = CompareAndSet.newBuilder().setKey(bytes(key)).setNewValue(bytes(newValue));
            if (expected == null) {
                cas.setExpectAbsent(true);
            } else {
                cas.setExpectedValue(bytes(expected));
            }
            return apply(next().setCompareAndSet(cas).build());
        }

        KvReply multiPut(String... keysAndValues) {
            MultiPut.Builder multiPut = MultiPut.newBuilder();
            for (int i = 0; i < keysAndValues.length; i += 2) {
                multiPut.addEntries(KeyValue.newBuilder()
                        .setKey(bytes(keysAndValues[i])).setValue(bytes(keysAndValues[i + 1])));
            }
            return apply(next().setMultiPut(multiPut).build());
        }
    }

    KvReply get(String key) {
        return machine.read(KvRequest.newBuilder().setGet(Get.newBuilder().setKey(bytes(key))).build());
    }

    /** The value of key, or null when absent (asserting the reply is OK or NOT_FOUND). */
    String value(String key) {
        KvReply reply = get(key);
        if (reply.getStatus() == Status.NOT_FOUND) {
            return null;
        }
        assertEquals(Status.OK, reply.getStatus(), reply.getMessage());
        return reply.getGet().getValue().toStringUtf8();
    }

    KvReply multiGet(String... keys) {
        MultiGet.Builder multiGet = MultiGet.newBuilder();
        for (String key : keys) {
            multiGet.addKeys(bytes(key));
        }
        return machine.read(KvRequest.newBuilder().setMultiGet(multiGet).build());
    }

    KvReply scanPrefix(String prefix, int limit, ByteString resumeAfter) {
        return machine.read(KvRequest.newBuilder().setScan(Scan.newBuilder()
                        .setPrefix(bytes(prefix)).setLimit(limit).setResumeAfter(resumeAfter))
                .build());
    }

    KvReply scanRange(ByteString start, ByteString end, int limit, ByteString resumeAfter) {
        return machine.read(KvRequest.newBuilder().setScan(Scan.newBuilder()
                        .setRange(KeyRange.newBuilder().setStart(start).setEnd(end))
                        .setLimit(limit).setResumeAfter(resumeAfter))
                .build());
    }
}
