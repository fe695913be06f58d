package io.loomkv.bench.kv;

import io.loomkv.bench.LatencyReport;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * Latencies (nanoseconds, HdrHistogram) and error counts per operation type, recorded
 * concurrently by the workers. Only operations of the measured phase are recorded here.
 */
public final class OpStats {
    private final Map<OpType, ConcurrentHistogram> latencies = new EnumMap<>(OpType.class);
    private final Map<OpType, LongAdder> errors = new EnumMap<>(OpType.class);
    private final LongAdder conflicts = new LongAdder();

    public OpStats() {
        for (OpType type : OpType.values()) {
            ConcurrentHistogram histogram = new ConcurrentHistogram(LatencyReport.newLatencyHistogram().getHighestTrackableValue(), 3);
            latencies.put(type, histogram);
            errors.put(type, new LongAdder());
        }
    }

    public void recordSuccess(OpType type, long latencyNanos) {
        // Clamp into the trackable range instead of throwing: a 1-hour stall is still a 1-hour stall.
        ConcurrentHistogram histogram = latencies.get(type);
        histogram.recordValue(Math.min(Math.max(latencyNanos, 0), histogram.getHighestTrackableValue()));
    }

    public void recordError(OpType type) {
        errors.get(type).increment();
    }

    /** A read-modify-write whose compare-and-set lost a race (counted, not an error). */
    public void recordConflict() {
        conflicts.increment();
    }

    public long conflicts() {
        return conflicts.sum();
    }

    public long errors(OpType type) {
        return errors.get(type).sum();
    }

    public long totalErrors() {
        long sum = 0;
        for (LongAdder adder : errors.values()) {
            sum += adder.sum();
        }
        return sum;
    }

    /** A snapshot of one type's latencies. */
    public Histogram latencies(OpType type) {
        return latencies.get(type).copy();
    }

    /** A snapshot of all types' latencies together. */
    public Histogram overall() {
        Histogram all = LatencyReport.newLatencyHistogram();
        for (ConcurrentHistogram histogram : latencies.values()) {
            all.add(histogram);
        }
        return all;
    }
}
