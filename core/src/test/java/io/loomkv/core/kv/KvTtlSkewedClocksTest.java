package io.loomkv.core.kv;

import static io.loomkv.core.kv.KvFixture.bytes;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.Append;
import io.loomkv.core.kv.proto.Command;
import io.loomkv.core.kv.proto.Delete;
import io.loomkv.core.kv.proto.Expire;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import java.util.stream.LongStream;

/**
 * Three replicas of one group apply the same log of writes with deadlines, stamped by leaders
 * whose clocks disagree (each replica's clock is skewed by up to ±{@link #MAX_SKEW_MILLIS}), while
 * time advances in random ticks and the leader changes; active expiry runs at the leader's clock.
 * Seeded: a failing seed replays exactly.
 *
 * <p>Checked after every step: every replica holds exactly the same engine contents (expiry at
 * apply is decided by the log clock, never a replica's own clock); and a read at any replica, at
 * its own skewed clock, returns a key exactly when a model of the writes says it exists and its
 * deadline is after that replica's clock (or the log clock, when that is later): an expired key is
 * never returned by the replica whose clock has passed its deadline, a live one never hidden.
 */
class KvTtlSkewedClocksTest {
    private static final int REPLICAS = 3;
    private static final long MAX_SKEW_MILLIS = 200;
    private static final int STEPS = 400;
    private static final List<String> KEYS = List.of("a", "b", "c", "{t}d", "{t}e");

    static LongStream seeds() {
        return LongStream.rangeClosed(1, 40);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void replicasAgreeAndNoReplicaServesAKeyPastItsDeadline(long seed) {
        Random random = new Random(seed);
        KvFixture[] replicas = new KvFixture[REPLICAS];
        long[] skew = new long[REPLICAS];
        for (int i = 0; i < REPLICAS; i++) {
            replicas[i] = new KvFixture();
            skew[i] = random.nextLong(-MAX_SKEW_MILLIS, MAX_SKEW_MILLIS + 1);
        }
        long realMillis = 1_700_000_000_000L;
        int leader = 0;
        long lastStamp = 0;
        long logClock = 0;
        Map<String, Model> model = new HashMap<>();
        long clientId = apply(replicas, stamp(realMillis + skew[leader], 0)
                .setOpenSession(OpenSession.getDefaultInstance()).build()).getOpenSession().getClientId();
        long sequence = 0;
        for (int step = 0; step < STEPS; step++) {
            realMillis += random.nextInt(60);
            if (random.nextInt(20) == 0) {
                leader = random.nextInt(REPLICAS);
                // A new leader stamps from its own clock; the log clock never goes back (max).
                lastStamp = 0;
            }
            long stamp = Math.max(realMillis + skew[leader], lastStamp);
            lastStamp = stamp;
            logClock = Math.max(logClock, stamp);
            String key = KEYS.get(random.nextInt(KEYS.size()));
            Model current = model.get(key);
            boolean live = current != null && !Deadlines.expired(current.deadline, logClock);
            Command.Builder command = stamp(stamp, clientId).setSequence(++sequence).setAcknowledgedBelow(sequence);
            int op = random.nextInt(7);
            switch (op) {
                case 0, 1 -> {
                    long ttl = 1 + random.nextInt(400);
                    apply(replicas, command.setPut(Put.newBuilder().setKey(bytes(key)).setValue(bytes("v" + step))
                            .setExpiry(Expiry.newBuilder().setTtlMillis(ttl))).build());
                    model.put(key, new Model("v" + step, logClock + ttl));
                }
                case 2 -> {
                    apply(replicas, command.setPut(Put.newBuilder().setKey(bytes(key)).setValue(bytes("p" + step))).build());
                    model.put(key, new Model("p" + step, 0));
                }
                case 3 -> {
                    apply(replicas, command.setAppend(Append.newBuilder().setKey(bytes(key)).setValue(bytes("+"))).build());
                    model.put(key, live ? new Model(current.value + "+", current.deadline) : new Model("+", 0));
                }
                case 4 -> {
                    long ttl = 1 + random.nextInt(400);
                    apply(replicas, command.setExpire(Expire.newBuilder().setKey(bytes(key)).setTtlMillis(ttl)).build());
                    if (live) {
                        model.put(key, new Model(current.value, logClock + ttl));
                    }
                }
                case 5 -> {
                    apply(replicas, command.setDelete(Delete.newBuilder().setKey(bytes(key))).build());
                    model.remove(key);
                }
                default -> {
                    // Active expiry: the leader walks at its own clock, the log deletes at the command's.
                    KvReply found = replicas[leader].machine.read(KvRequest.newBuilder().setGroupId(1)
                            .setMigrationRead(MigrationRead.newBuilder().setFindExpired(FindExpired.getDefaultInstance()))
                            .build(), realMillis + skew[leader]);
                    assertEquals(Status.OK, found.getStatus(), found.getMessage());
                    apply(replicas, stamp(stamp, 0).setMigrationWrite(MigrationWrite.newBuilder().setExpireKeys(
                            ExpireKeys.newBuilder().addAllKeys(found.getMigration().getExpired().getKeysList()))).build());
                    sequence--;
                }
            }
            for (int i = 1; i < REPLICAS; i++) {
                assertEquals(replicas[0].engine.contents(), replicas[i].engine.contents(),
                        "seed " + seed + " step " + step + ": replica " + i + " differs from replica 0");
            }
            for (int i = 0; i < REPLICAS; i++) {
                long now = realMillis + skew[i];
                for (String k : KEYS) {
                    KvReply read = replicas[i].machine.read(KvRequest.newBuilder()
                            .setGet(Get.newBuilder().setKey(bytes(k))).build(), now);
                    Model expected = model.get(k);
                    boolean shouldServe = expected != null
                            && !Deadlines.expired(expected.deadline, Math.max(now, logClock));
                    String where = "seed " + seed + " step " + step + " replica " + i + " key " + k + " at " + now
                            + " (log clock " + logClock + ", model " + expected + ")";
                    if (shouldServe) {
                        assertEquals(Status.OK, read.getStatus(), where);
                        assertEquals(ByteString.copyFromUtf8(expected.value), read.getGet().getValue(), where);
                        assertEquals(expected.deadline, read.getGet().getExpiresAtMillis(), where);
                    } else {
                        assertEquals(Status.NOT_FOUND, read.getStatus(), where);
                    }
                }
            }
        }
    }

    private static Command.Builder stamp(long timestampMillis, long clientId) {
        return Command.newBuilder().setTimestampMillis(timestampMillis).setClientId(clientId);
    }

    /** Applies one command at every replica (the same log); returns replica 0's reply, checking all agree. */
    private static KvReply apply(KvFixture[] replicas, Command command) {
        KvReply first = replicas[0].apply(command);
        assertEquals(Status.OK, first.getStatus(), first.getMessage());
        for (int i = 1; i < replicas.length; i++) {
            assertEquals(first, replicas[i].apply(command), "replica " + i + " answered differently");
        }
        return first;
    }

    private record Model(String value, long deadline) {}
}
