package io.loomkv.core.kv;

import static io.loomkv.core.kv.KvFixture.bytes;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.Append;
import io.loomkv.core.kv.proto.Command;
import io.loomkv.core.kv.proto.CompareAndSet;
import io.loomkv.core.kv.proto.Delete;
import io.loomkv.core.kv.proto.KeyRange;
import io.loomkv.core.kv.proto.KeyValue;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.MultiGet;
import io.loomkv.core.kv.proto.MultiGetEntry;
import io.loomkv.core.kv.proto.MultiPut;
import io.loomkv.core.kv.proto.Put;
import io.loomkv.core.kv.proto.Scan;
import io.loomkv.core.kv.proto.ScanResult;
import io.loomkv.core.kv.proto.Status;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Seeded random operations against the state machine and against a plain TreeMap model, with
 * duplicated log entries (retries after a leader change), late old sequences, and snapshot /
 * restore in the middle. A failure names its seed; rerun that seed to reproduce it exactly.
 */
class KvStateMachineModelTest {

    private static final int STEPS = 4000;
    private static final int CLIENTS = 4;
    private static final int MAX_VALUE_BYTES = 24;
    private static final KvLimits LIMITS = KvLimits.defaults().withMaxValueBytes(MAX_VALUE_BYTES);
    private static final SessionPolicy POLICY = SessionPolicy.defaults();

    /** Client-side memory: the last write sent and the reply it got. */
    private static final class ClientModel {
        long clientId;
        long nextSequence = 1;
        final List<Command> sent = new ArrayList<>();
        KvReply lastReply;
    }

    private Random random;
    private KvFixture kv;
    private final TreeMap<String, String> model = new TreeMap<>();
    private String context;

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 20261123, 987654321})
    void stateMachineMatchesTheModel(long seed) throws IOException {
        random = new Random(seed);
        kv = new KvFixture(LIMITS, POLICY);
        List<ClientModel> clients = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            ClientModel client = new ClientModel();
            client.clientId = kv.openSession();
            clients.add(client);
        }
        for (int step = 0; step < STEPS; step++) {
            context = "seed " + seed + " step " + step;
            kv.nowMillis += random.nextInt(50);
            int dice = random.nextInt(100);
            ClientModel client = clients.get(random.nextInt(CLIENTS));
            if (dice < 55) {
                newWrite(client);
            } else if (dice < 65 && client.lastReply != null) {
                // The same command committed again (a retry through a new leader): same reply, no effect.
                Command again = client.sent.get(client.sent.size() - 1);
                assertEquals(client.lastReply, kv.apply(again), context);
            } else if (dice < 70 && client.sent.size() >= 2) {
                Command old = client.sent.get(random.nextInt(client.sent.size() - 1));
                assertEquals(Status.STALE_SEQUENCE, kv.apply(old).getStatus(), context);
            } else if (dice < 99) {
                read();
            } else {
                snapshotAndRestore();
            }
            if (step % 500 == 0) {
                assertEquals(toByteStrings(model), kv.userContents(), context);
            }
        }
        assertEquals(toByteStrings(model), kv.userContents(), context);
    }

    private void newWrite(ClientModel client) {
        long sequence = client.nextSequence++;
        Command.Builder command = kv.stamped().setClientId(client.clientId).setSequence(sequence)
                .setAcknowledgedBelow(sequence);
        String key = randomKey();
        int kind = random.nextInt(5);
        KvReply reply;
        switch (kind) {
            case 0 -> {
                String value = randomValue();
                reply = kv.apply(command.setPut(Put.newBuilder().setKey(bytes(key)).setValue(bytes(value))).build());
                assertEquals(Status.OK, reply.getStatus(), context);
                assertEquals(model.containsKey(key), reply.getPut().getExisted(), context);
                model.put(key, value);
            }
            case 1 -> {
                String value = randomValue();
                reply = kv.apply(command.setAppend(Append.newBuilder().setKey(bytes(key)).setValue(bytes(value))).build());
                String appended = model.getOrDefault(key, "") + value;
                if (appended.length() > MAX_VALUE_BYTES) {
                    assertEquals(Status.INVALID_ARGUMENT, reply.getStatus(), context);
                } else {
                    assertEquals(Status.OK, reply.getStatus(), context);
                    assertEquals(appended.length(), reply.getAppend().getNewLengthBytes(), context);
                    model.put(key, appended);
                }
            }
            case 2 -> {
                reply = kv.apply(command.setDelete(Delete.newBuilder().setKey(bytes(key))).build());
                assertEquals(Status.OK, reply.getStatus(), context);
                assertEquals(model.remove(key) != null, reply.getDelete().getExisted(), context);
            }
            case 3 -> reply = compareAndSet(command, key);
            default -> reply = multiPut(command);
        }
        client.sent.add(command.build());
        client.lastReply = reply;
    }

    private KvReply compareAndSet(Command.Builder command, String key) {
        String current = model.get(key);
        CompareAndSet.Builder cas = CompareAndSet.newBuilder().setKey(bytes(key)).setNewValue(bytes(randomValue()));
        int choice = random.nextInt(3);
        boolean expectMatch;
        if (choice == 0) {
            cas.setExpectAbsent(true);
            expectMatch = current == null;
        } else if (choice == 1 && current != null) {
            cas.setExpectedValue(bytes(current));
            expectMatch = true;
        } else {
            String expected = randomValue();
            cas.setExpectedValue(bytes(expected));
            expectMatch = expected.equals(current);
        }
        KvReply reply = kv.apply(command.setCompareAndSet(cas).build());
        if (expectMatch) {
            assertEquals(Status.OK, reply.getStatus(), context);
            model.put(key, cas.getNewValue().toStringUtf8());
        } else {
            assertEquals(Status.CAS_FAILED, reply.getStatus(), context);
            assertEquals(current != null, reply.getCompareAndSet().getCurrentPresent(), context);
            if (current != null) {
                assertEquals(current, reply.getCompareAndSet().getCurrentValue().toStringUtf8(), context);
            }
        }
        return reply;
    }

    private KvReply multiPut(Command.Builder command) {
        int count = 1 + random.nextInt(4);
        MultiPut.Builder multiPut = MultiPut.newBuilder();
        LinkedHashSet<String> keys = new LinkedHashSet<>();
        Map<String, String> writes = new TreeMap<>();
        while (keys.size() < count) {
            keys.add(randomKey());
        }
        for (String key : keys) {
            String value = randomValue();
            writes.put(key, value);
            multiPut.addEntries(KeyValue.newBuilder().setKey(bytes(key)).setValue(bytes(value)));
        }
        boolean poisoned = random.nextInt(10) == 0;
        if (poisoned) {
            // One bad entry anywhere must keep every other entry from being written.
            String bad = random.nextBoolean() ? "" : keys.iterator().next();
            multiPut.addEntries(random.nextInt(multiPut.getEntriesCount() + 1),
                    KeyValue.newBuilder().setKey(bytes(bad)).setValue(bytes("x")).build());
        }
        KvReply reply = kv.apply(command.setMultiPut(multiPut).build());
        if (poisoned) {
            assertEquals(Status.INVALID_ARGUMENT, reply.getStatus(), context);
        } else {
            assertEquals(Status.OK, reply.getStatus(), context);
            model.putAll(writes);
        }
        return reply;
    }

    private void read() {
        int kind = random.nextInt(3);
        if (kind == 0) {
            String key = randomKey();
            String value = kv.value(key);
            assertEquals(model.get(key), value, context);
        } else if (kind == 1) {
            MultiGet.Builder multiGet = MultiGet.newBuilder();
            List<String> keys = new ArrayList<>();
            for (int i = 0, n = 1 + random.nextInt(5); i < n; i++) {
                keys.add(randomKey());
                multiGet.addKeys(bytes(keys.get(i)));
            }
            KvReply reply = kv.machine.read(KvRequest.newBuilder().setMultiGet(multiGet).build());
            assertEquals(Status.OK, reply.getStatus(), context);
            for (int i = 0; i < keys.size(); i++) {
                MultiGetEntry entry = reply.getMultiGet().getEntries(i);
                String expected = model.get(keys.get(i));
                assertEquals(expected != null, entry.getFound(), context);
                if (expected != null) {
                    assertEquals(expected, entry.getValue().toStringUtf8(), context);
                }
            }
        } else {
            scanAllPages();
        }
    }

    private void scanAllPages() {
        Scan.Builder scan = Scan.newBuilder().setLimit(1 + random.nextInt(7));
        SortedMap<String, String> expected;
        if (random.nextBoolean()) {
            String prefix = random.nextInt(4) == 0 ? "" : randomKey().substring(0, 1);
            scan.setPrefix(bytes(prefix));
            expected = prefix.isEmpty() ? model : model.subMap(prefix, prefix + Character.MAX_VALUE);
        } else {
            String start = randomKey();
            String end = randomKey();
            if (start.compareTo(end) > 0) {
                String swap = start;
                start = end;
                end = swap;
            }
            scan.setRange(KeyRange.newBuilder().setStart(bytes(start)).setEnd(bytes(end)));
            expected = model.subMap(start, end);
        }
        List<String> seen = new ArrayList<>();
        ByteString resumeAfter = ByteString.EMPTY;
        for (int page = 0; page <= model.size() + 1; page++) {
            KvReply reply = kv.machine.read(KvRequest.newBuilder().setScan(scan.setResumeAfter(resumeAfter)).build());
            assertEquals(Status.OK, reply.getStatus(), context);
            ScanResult result = reply.getScan();
            for (KeyValue entry : result.getEntriesList()) {
                String key = entry.getKey().toStringUtf8();
                seen.add(key);
                assertEquals(model.get(key), entry.getValue().toStringUtf8(), context);
            }
            if (!result.getMore()) {
                break;
            }
            resumeAfter = result.getContinuation();
        }
        assertEquals(new ArrayList<>(expected.keySet()), seen, context);
    }

    private void snapshotAndRestore() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        kv.machine.writeSnapshot(out);
        KvFixture restored = new KvFixture(LIMITS, POLICY);
        restored.machine.restore(new ByteArrayInputStream(out.toByteArray()));
        restored.index = kv.index;
        restored.nowMillis = kv.nowMillis;
        assertEquals(kv.machine.lastAppliedIndex(), restored.machine.lastAppliedIndex(), context);
        assertEquals(kv.engine.contents(), restored.engine.contents(), context);
        kv = restored;
    }

    /** Keys over a small alphabet so operations collide often. */
    private String randomKey() {
        int length = 1 + random.nextInt(3);
        StringBuilder key = new StringBuilder();
        for (int i = 0; i < length; i++) {
            key.append((char) ('a' + random.nextInt(3)));
        }
        return key.toString();
    }

    private String randomValue() {
        return Integer.toString(random.nextInt(1000), 36).repeat(1 + random.nextInt(3));
    }

    private static TreeMap<ByteString, ByteString> toByteStrings(TreeMap<String, String> map) {
        TreeMap<ByteString, ByteString> result = new TreeMap<>(KvKeys.ORDER);
        for (Map.Entry<String, String> entry : map.entrySet()) {
            result.put(bytes(entry.getKey()), bytes(entry.getValue()));
        }
        return result;
    }
}
