package io.loomkv.bench.kv;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * What one ramp level measured, frozen when its line is printed.
 *
 * @param level clients (closed loop) or target ops/s (open loop)
 * @param measuredNanos the level's measured window (its length minus the settle time)
 * @param operations operations that succeeded (compare-and-set conflicts included)
 * @param errors operations that failed
 * @param p50Nanos the median latency of all operation types together (0 without successes)
 * @param p99Nanos the 99th percentile of all operation types together (0 without successes)
 * @param p99NanosByType the 99th percentile per operation type that succeeded at least once
 * @param pending operations of the level not finished (or, open loop, not yet sent) when the line
 *     was printed: not in these figures
 */
public record LevelResult(long level, long measuredNanos, long operations, long errors, long p50Nanos, long p99Nanos,
        Map<OpType, Long> p99NanosByType, long pending) {

    public LevelResult {
        if (measuredNanos <= 0 || operations < 0 || errors < 0 || pending < 0) {
            throw new IllegalArgumentException("bad level result: measured " + measuredNanos + " ns, operations " + operations
                    + ", errors " + errors + ", pending " + pending);
        }
        Map<OpType, Long> copy = new EnumMap<>(OpType.class);
        copy.putAll(p99NanosByType);
        p99NanosByType = Collections.unmodifiableMap(copy);
    }

    /** The figures of {@code stats}, one level's statistics. */
    public static LevelResult of(long level, long measuredNanos, OpStats stats, long pending) {
        Histogram overall = stats.overall();
        Map<OpType, Long> byType = new EnumMap<>(OpType.class);
        for (OpType type : OpType.values()) {
            Histogram histogram = stats.latencies(type);
            if (histogram.getTotalCount() > 0) {
                byType.put(type, histogram.getValueAtPercentile(99));
            }
        }
        boolean any = overall.getTotalCount() > 0;
        return new LevelResult(level, measuredNanos, overall.getTotalCount(), stats.totalErrors(),
                any ? overall.getValueAtPercentile(50) : 0, any ? overall.getValueAtPercentile(99) : 0, byType, pending);
    }

    public double opsPerSecond() {
        return operations * 1e9 / measuredNanos;
    }

    /** Whether this level's p99 is above {@code boundNanos}; a level where nothing succeeded counts as above. */
    public boolean p99Above(long boundNanos) {
        return operations == 0 || p99Nanos > boundNanos;
    }
}
