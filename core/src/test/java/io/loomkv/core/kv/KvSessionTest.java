package io.loomkv.core.kv;

import static io.loomkv.core.kv.KvFixture.bytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.kv.proto.Append;
import io.loomkv.core.kv.proto.Command;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.Put;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.core.shard.GroupIds;
import org.junit.jupiter.api.Test;

/** Exactly-once writes: deduplication, stale sequences, expiry by log time, the session bound. */
class KvSessionTest {

    private static final long TIMEOUT_MILLIS = 60_000;

    private final KvFixture kv = new KvFixture(KvLimits.defaults(), new SessionPolicy(TIMEOUT_MILLIS, 3, 4));

    private static Command.Builder append(Command.Builder command, String key, String value) {
        return command.setAppend(Append.newBuilder().setKey(bytes(key)).setValue(bytes(value)));
    }

    @Test
    void writeRetriedAfterLeaderChangeIsAppliedOnce() {
        KvFixture.Client client = kv.client();
        Command command = append(client.next(), "k", "x").build();
        KvReply first = kv.apply(command);
        // The old leader committed it but its reply was lost; the client retried through the new
        // leader, so the same command is in the log a second time.
        KvReply retried = kv.apply(command);
        assertEquals(Status.OK, first.getStatus());
        assertEquals(first, retried);
        assertEquals("x", kv.value("k"));
    }

    @Test
    void retryWithALaterTimestampStillGetsTheCachedReply() {
        KvFixture.Client client = kv.client();
        Command command = append(client.next(), "k", "x").build();
        kv.apply(command);
        kv.nowMillis += 1000;
        KvReply retried = kv.apply(command.toBuilder().setTimestampMillis(kv.nowMillis).build());
        assertEquals(1, retried.getAppend().getNewLengthBytes());
        assertEquals("x", kv.value("k"));
    }

    @Test
    void cachedReplyIsTheOriginalOutcomeNotARecomputation() {
        KvFixture.Client client = kv.client();
        KvFixture.Client other = kv.client();
        Command cas = client.next().setCompareAndSet(io.loomkv.core.kv.proto.CompareAndSet.newBuilder()
                .setKey(bytes("lock")).setExpectAbsent(true).setNewValue(bytes("mine"))).build();
        assertEquals(Status.OK, kv.apply(cas).getStatus());
        other.put("lock", "theirs");
        KvReply retried = kv.apply(cas);
        assertEquals(Status.OK, retried.getStatus(), "the retry reports the original success");
        assertTrue(retried.getCompareAndSet().getSwapped());
        assertEquals("theirs", kv.value("lock"), "and does not apply again");
    }

    @Test
    void sequenceBelowTheAcknowledgedMarkIsStale() {
        KvFixture.Client client = kv.client();
        Command first = append(client.next(), "k", "1").build();
        kv.apply(first);
        client.append("k", "2");
        KvReply late = kv.apply(first);
        assertEquals(Status.STALE_SEQUENCE, late.getStatus());
        assertTrue(late.getMessage().contains("sequence 1"), late.getMessage());
        assertEquals("12", kv.value("k"), "not applied again");
    }

    @Test
    void pipelinedWritesMayApplyInAnyOrderExactlyOnce() {
        long clientId = kv.openSession();
        Command.Builder base = kv.stamped().setClientId(clientId).setAcknowledgedBelow(1);
        Command one = append(base.clone().setSequence(1), "k", "a").build();
        Command two = append(base.clone().setSequence(2), "k", "b").build();
        Command three = append(base.clone().setSequence(3), "k", "c").build();
        kv.apply(two);
        kv.apply(one);
        kv.apply(two);
        kv.apply(three);
        kv.apply(one);
        assertEquals("bac", kv.value("k"));
        // Acknowledging drops the cached replies below the mark: sequence 1 is now stale.
        Command four = append(base.clone().setSequence(4).setAcknowledgedBelow(4), "k", "d").build();
        kv.apply(four);
        assertEquals(Status.STALE_SEQUENCE, kv.apply(one).getStatus());
        assertEquals(Status.STALE_SEQUENCE, kv.apply(three).getStatus());
        assertEquals("bacd", kv.value("k"));
    }

    @Test
    void tooManyUnacknowledgedRepliesRefusesTheWriteWithoutApplyingIt() {
        long clientId = kv.openSession();
        for (int sequence = 1; sequence <= 4; sequence++) {
            Command command = append(kv.stamped().setClientId(clientId).setSequence(sequence).setAcknowledgedBelow(1),
                    "k", "x").build();
            assertEquals(Status.OK, kv.apply(command).getStatus());
        }
        Command fifth = append(kv.stamped().setClientId(clientId).setSequence(5).setAcknowledgedBelow(1),
                "k", "y").build();
        KvReply refused = kv.apply(fifth);
        assertEquals(Status.RESOURCE_EXHAUSTED, refused.getStatus());
        assertEquals("xxxx", kv.value("k"));
        // Once the client acknowledges, the same write goes through (it was never applied).
        KvReply accepted = kv.apply(fifth.toBuilder().setAcknowledgedBelow(5).build());
        assertEquals(Status.OK, accepted.getStatus());
        assertEquals("xxxxy", kv.value("k"));
    }

    @Test
    void unknownSessionIsExpiredAndNothingIsApplied() {
        Command command = kv.stamped().setClientId(99).setSequence(1).setAcknowledgedBelow(1)
                .setPut(Put.newBuilder().setKey(bytes("k")).setValue(bytes("v"))).build();
        KvReply reply = kv.apply(command);
        assertEquals(Status.SESSION_EXPIRED, reply.getStatus());
        assertEquals(null, kv.value("k"));
    }

    @Test
    void idleSessionExpiresByLogTimeNotBeforeTheTimeout() {
        KvFixture.Client idle = kv.client();
        KvFixture.Client busy = kv.client();
        idle.put("idle", "1");
        kv.nowMillis += TIMEOUT_MILLIS;
        busy.put("busy", "1");
        assertEquals(Status.OK, idle.put("idle", "2").getStatus(), "exactly the timeout is still alive");
        kv.nowMillis += TIMEOUT_MILLIS / 2;
        busy.put("busy", "2");
        kv.nowMillis += TIMEOUT_MILLIS / 2 + 1;
        busy.put("busy", "3");
        assertEquals(1, kv.machine.sessionCount(), "the idle session expired when the log clock passed it");
        KvReply reply = idle.put("idle", "3");
        assertEquals(Status.SESSION_EXPIRED, reply.getStatus());
        assertEquals("2", kv.value("idle"));
    }

    @Test
    void expiredSessionRetryIsNotAppliedTwice() {
        KvFixture.Client client = kv.client();
        Command command = append(client.next(), "counter", "+").build();
        kv.apply(command);
        kv.nowMillis += TIMEOUT_MILLIS + 1;
        kv.openSession();
        KvReply retried = kv.apply(command.toBuilder().setTimestampMillis(kv.nowMillis).build());
        assertEquals(Status.SESSION_EXPIRED, retried.getStatus());
        assertEquals("+", kv.value("counter"));
    }

    @Test
    void logClockNeverGoesBackwards() {
        KvFixture.Client client = kv.client();
        kv.nowMillis += 10_000;
        client.put("a", "1");
        long clock = kv.machine.clockMillis();
        // A new leader whose wall clock is behind stamps an older time: the log clock holds.
        kv.nowMillis -= 5_000;
        assertEquals(Status.OK, client.put("a", "2").getStatus());
        assertEquals(clock, kv.machine.clockMillis());
    }

    @Test
    void sessionTableIsBoundedAndEvictsTheLeastRecentlyUsed() {
        KvFixture.Client a = kv.client();
        KvFixture.Client b = kv.client();
        KvFixture.Client c = kv.client();
        a.put("a", "1");
        kv.nowMillis += 1;
        b.put("b", "1");
        // c was used only when it opened, before a and b wrote, so c is the least recently used.
        kv.nowMillis += 1;
        a.put("a", "2");
        long d = kv.openSession();
        assertEquals(3, kv.machine.sessionCount());
        assertEquals(Status.SESSION_EXPIRED, c.put("c", "1").getStatus(), "c was least recently used");
        assertEquals(Status.OK, b.put("b", "2").getStatus());
        assertEquals(Status.OK, a.put("a", "3").getStatus());
        long e = kv.openSession();
        assertNotEquals(d, e);
        assertEquals(3, kv.machine.sessionCount());
        KvReply evicted = kv.apply(kv.stamped().setClientId(d).setSequence(1).setAcknowledgedBelow(1)
                .setPut(Put.newBuilder().setKey(bytes("d")).setValue(bytes("1"))).build());
        assertEquals(Status.SESSION_EXPIRED, evicted.getStatus(), "d had not written since it opened");
        assertEquals(null, kv.value("d"));
    }

    @Test
    void evictionIsDeterministicAcrossReplicas() {
        KvFixture first = new KvFixture(KvLimits.defaults(), new SessionPolicy(TIMEOUT_MILLIS, 5, 4));
        KvFixture second = new KvFixture(KvLimits.defaults(), new SessionPolicy(TIMEOUT_MILLIS, 5, 4));
        java.util.List<Command> log = new java.util.ArrayList<>();
        java.util.Random random = new java.util.Random(7);
        long now = 1000;
        for (int i = 0; i < 300; i++) {
            now += random.nextInt(3);
            Command.Builder command = Command.newBuilder().setTimestampMillis(now);
            if (random.nextInt(4) == 0) {
                command.setOpenSession(io.loomkv.core.kv.proto.OpenSession.getDefaultInstance());
            } else {
                long sequence = 1 + random.nextInt(6);
                long clientId = GroupIds.firstClientId(1) + random.nextInt(40);
                append(command.setClientId(clientId).setSequence(sequence).setAcknowledgedBelow(sequence),
                        "k" + random.nextInt(5), "v" + i);
            }
            log.add(command.build());
        }
        for (Command command : log) {
            KvReply one = first.apply(command);
            KvReply two = second.apply(command);
            assertEquals(one, two);
        }
        assertEquals(first.engine.contents(), second.engine.contents());
        assertEquals(first.machine.sessionCount(), second.machine.sessionCount());
    }
}
