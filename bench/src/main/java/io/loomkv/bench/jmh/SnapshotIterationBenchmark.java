package io.loomkv.bench.jmh;

import io.loomkv.core.engine.EngineSnapshot;
import io.loomkv.core.engine.KeyValue;
import io.loomkv.persist.engine.MemoryKvEngine;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Reading a point-in-time view of the memory engine from end to end, as the snapshot writer does
 * every {@code snapshot-threshold-entries} (and a slot move or a follower's catch-up does): ns per
 * key, {@code bench kv}'s shapes (16-byte keys, 128 B values), no concurrent writer.
 *
 * <p>Run: {@code ./loomkv bench jmh SnapshotIterationBenchmark -f 1 -wi 3 -i 5 -w 2s -r 2s}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class SnapshotIterationBenchmark {
    private static final int KEYS_PER_INVOCATION = 10_000;

    @Param({"10000", "1000000"})
    public int keys;

    private MemoryKvEngine engine;
    private EngineSnapshot snapshot;
    private Iterator<KeyValue> iterator;

    @Setup
    public void setUp() {
        engine = new MemoryKvEngine();
        SplittableRandom random = new SplittableRandom(7);
        byte[][] values = new byte[16][128];
        for (byte[] value : values) {
            random.nextBytes(value);
        }
        for (int i = 0; i < keys; i++) {
            // Random order of insertion, as a workload's keys arrive: the skip list's nodes are
            // then scattered over the heap as in a server.
            engine.put(String.format("k%015d", random.nextInt(Integer.MAX_VALUE)).getBytes(StandardCharsets.US_ASCII),
                    values[i & 15]);
        }
        reopen();
    }

    /** The next {@value #KEYS_PER_INVOCATION} keys of the view, opening a new one at the end. */
    @Benchmark
    @OperationsPerInvocation(KEYS_PER_INVOCATION)
    public long iterate() {
        long bytes = 0;
        for (int i = 0; i < KEYS_PER_INVOCATION; i++) {
            if (!iterator.hasNext()) {
                reopen();
            }
            bytes += iterator.next().value().length;
        }
        return bytes;
    }

    private void reopen() {
        if (snapshot != null) {
            snapshot.close();
        }
        snapshot = engine.snapshot();
        iterator = snapshot.iterator();
    }
}
