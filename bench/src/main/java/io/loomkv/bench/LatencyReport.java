package io.loomkv.bench;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * The summary every loomkv benchmark prints: a human block and, on request, one JSON line with
 * the same keys for every bench ({@code throughput_ops_s, p50_us, p99_us, p999_us, max_us,
 * errors}), so scripts can compare runs of different benches.
 *
 * <p>Latencies are recorded in nanoseconds and reported in microseconds.
 */
public final class LatencyReport {
    private final String title;
    private final Histogram latencyNanos;
    private final long operations;
    private final long errors;
    private final long elapsedNanos;

    public LatencyReport(String title, Histogram latencyNanos, long operations, long errors, long elapsedNanos) {
        if (elapsedNanos <= 0) {
            throw new IllegalArgumentException("elapsedNanos must be positive, got " + elapsedNanos);
        }
        if (operations < 0 || errors < 0) {
            throw new IllegalArgumentException("negative count: operations=" + operations + " errors=" + errors);
        }
        this.title = title;
        this.latencyNanos = latencyNanos;
        this.operations = operations;
        this.errors = errors;
        this.elapsedNanos = elapsedNanos;
    }

    /** A histogram suited to request latencies: 1 us .. 1 h, 3 significant digits, in nanoseconds. */
    public static Histogram newLatencyHistogram() {
        return new Histogram(TimeUnit.HOURS.toNanos(1), 3);
    }

    public double throughputPerSecond() {
        return operations * 1e9 / elapsedNanos;
    }

    public long percentileMicros(double percentile) {
        if (latencyNanos.getTotalCount() == 0) {
            return 0;
        }
        return TimeUnit.NANOSECONDS.toMicros(latencyNanos.getValueAtPercentile(percentile));
    }

    public long maxMicros() {
        return latencyNanos.getTotalCount() == 0 ? 0 : TimeUnit.NANOSECONDS.toMicros(latencyNanos.getMaxValue());
    }

    public long errors() {
        return errors;
    }

    public long operations() {
        return operations;
    }

    /** The human-readable block. */
    public void printSummary(PrintStream out) {
        out.printf(Locale.ROOT, "%s%n", title);
        out.printf(Locale.ROOT, "  duration      %.2f s%n", elapsedNanos / 1e9);
        out.printf(Locale.ROOT, "  operations    %d (errors %d)%n", operations, errors);
        out.printf(Locale.ROOT, "  throughput    %.0f ops/s%n", throughputPerSecond());
        out.printf(Locale.ROOT, "  latency (us)  p50 %d  p90 %d  p99 %d  p99.9 %d  max %d  (count %d)%n",
                percentileMicros(50), percentileMicros(90), percentileMicros(99), percentileMicros(99.9),
                maxMicros(), latencyNanos.getTotalCount());
    }

    /** The one-line JSON summary shared by all benches. */
    public String toJsonLine() {
        return String.format(Locale.ROOT,
                "{\"throughput_ops_s\":%d,\"p50_us\":%d,\"p99_us\":%d,\"p999_us\":%d,\"max_us\":%d,\"errors\":%d}",
                Math.round(throughputPerSecond()), percentileMicros(50), percentileMicros(99),
                percentileMicros(99.9), maxMicros(), errors);
    }
}
