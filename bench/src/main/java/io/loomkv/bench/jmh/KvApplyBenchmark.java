package io.loomkv.bench.jmh;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.KvLimits;
import io.loomkv.core.kv.KvStateMachine;
import io.loomkv.core.kv.SessionPolicy;
import io.loomkv.core.kv.proto.Command;
import io.loomkv.core.kv.proto.Get;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.OpenSession;
import io.loomkv.core.kv.proto.Put;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.core.shard.SlotSet;
import io.loomkv.persist.engine.MemoryKvEngine;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The state machine's share of a KV operation on the default (memory) engine, as every replica of
 * a group pays it: a PUT applied from the log, and a GET served concurrently with the apply
 * thread (how a linearizable read is answered once its read index is applied). The keys and
 * values are {@code bench kv}'s (16-byte keys, 128 B values, uniform over {@code keys} keys); the
 * writes come from a few sessions with 64 unacknowledged replies each, as the bench's clients
 * keep them. One thread, so the figures are CPU per operation, free of the cluster's hand-offs.
 *
 * <p>Run: {@code ./loomkv bench jmh KvApplyBenchmark -f 1 -wi 3 -i 5 -w 2s -r 2s}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class KvApplyBenchmark {
    private static final int SESSIONS = 4;
    private static final int UNACKNOWLEDGED_PER_SESSION = 64;

    @Param({"10000", "1000000"})
    public int keys;

    private KvStateMachine machine;
    private ByteString[] keyBytes;
    private ByteString value;
    private KvRequest[] gets;
    private long[] clientIds;
    private long[] nextSequence;
    private long index;
    private long nowMillis = 1_000_000;
    private final SplittableRandom random = new SplittableRandom(42);

    @Setup
    public void setUp() {
        machine = new KvStateMachine(new MemoryKvEngine(), KvLimits.defaults(), SessionPolicy.defaults(), 1,
                SlotSet.all());
        byte[] valueBytes = new byte[128];
        new SplittableRandom(7).nextBytes(valueBytes);
        value = ByteString.copyFrom(valueBytes);
        keyBytes = new ByteString[keys];
        gets = new KvRequest[keys];
        for (int i = 0; i < keys; i++) {
            keyBytes[i] = ByteString.copyFrom(String.format("k%015d", i), StandardCharsets.US_ASCII);
            gets[i] = KvRequest.newBuilder().setGet(Get.newBuilder().setKey(keyBytes[i])).build();
        }
        clientIds = new long[SESSIONS];
        nextSequence = new long[SESSIONS];
        for (int s = 0; s < SESSIONS; s++) {
            KvReply opened = machine.apply(++index, Command.newBuilder().setTimestampMillis(nowMillis)
                    .setOpenSession(OpenSession.getDefaultInstance()).build());
            clientIds[s] = opened.getOpenSession().getClientId();
            nextSequence[s] = 1;
        }
        for (int i = 0; i < keys; i++) {
            KvReply reply = putKey(i);
            if (reply.getStatus() != Status.OK) {
                throw new IllegalStateException("preload put failed: " + reply);
            }
        }
    }

    private KvReply putKey(int key) {
        int s = (int) (index % SESSIONS);
        long sequence = nextSequence[s]++;
        long acknowledgedBelow = Math.max(1, sequence - UNACKNOWLEDGED_PER_SESSION + 1);
        Command command = Command.newBuilder().setTimestampMillis(++nowMillis).setClientId(clientIds[s])
                .setSequence(sequence).setAcknowledgedBelow(acknowledgedBelow)
                .setPut(Put.newBuilder().setKey(keyBytes[key]).setValue(value)).build();
        return machine.apply(++index, command);
    }

    /** A PUT of an existing key, applied at the next log index (the command is built here too, as a replica parses it). */
    @Benchmark
    public KvReply put() {
        return putKey(random.nextInt(keys));
    }

    /** A GET of an existing key, as a linearizable read is served once its read index is applied. */
    @Benchmark
    public KvReply get() {
        return machine.getConcurrently(gets[random.nextInt(keys)], nowMillis);
    }
}
