package io.loomkv.bench.kv;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The text of a ramp: a header, one line per level (level, achieved ops/s, p50 and p99 of all
 * operation types together, the p99 of each type in the mix, errors), and the summary: the level
 * with the highest throughput and the first level whose p99 passed {@code --p99-bound}.
 */
public final class RampReport {
    public static final long NO_BOUND = 0;

    private final boolean openLoop;
    private final List<OpType> types;
    private final long p99BoundNanos;

    /**
     * @param types the operation types whose p99 gets a column (those of the mix)
     * @param p99BoundNanos the bound, or {@link #NO_BOUND}
     */
    public RampReport(boolean openLoop, List<OpType> types, long p99BoundNanos) {
        if (p99BoundNanos < 0) {
            throw new IllegalArgumentException("p99 bound must be positive, got " + p99BoundNanos + " ns");
        }
        this.openLoop = openLoop;
        this.types = List.copyOf(types);
        this.p99BoundNanos = p99BoundNanos;
    }

    /** The types with a non-zero share in {@code mix}, in {@link OpType} order. */
    public static List<OpType> typesOf(OperationMix mix) {
        List<OpType> present = new ArrayList<>();
        mix.asMap().forEach((type, share) -> {
            if (share > 0) {
                present.add(type);
            }
        });
        return present;
    }

    public String levelName() {
        return openLoop ? "target ops/s" : "clients";
    }

    public List<String> header(long settleNanos) {
        List<String> lines = new ArrayList<>();
        lines.add(String.format(Locale.ROOT, "ramp (%s): one line per level as it ends; latencies in ms of the operations %s in the level "
                + "after its first %s; p50 and p99 over all operation types, then p99 per type",
                openLoop ? "open loop, latency from the intended start" : "closed loop", openLoop ? "due" : "started",
                formatDuration(settleNanos)));
        StringBuilder columns = new StringBuilder(String.format(Locale.ROOT, "  %12s %10s %8s %8s", levelName(), "ops/s", "p50", "p99"));
        for (OpType type : types) {
            columns.append(String.format(Locale.ROOT, " %11s", type.label() + " p99"));
        }
        columns.append(String.format(Locale.ROOT, " %8s", "errors"));
        lines.add(columns.toString());
        return lines;
    }

    public String line(LevelResult result) {
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  %12d %10.0f %8s %8s", result.level(), result.opsPerSecond(),
                millis(result.operations(), result.p50Nanos()), millis(result.operations(), result.p99Nanos())));
        for (OpType type : types) {
            Long p99 = result.p99NanosByType().get(type);
            line.append(String.format(Locale.ROOT, " %11s", p99 == null ? "-" : millis(1, p99)));
        }
        line.append(String.format(Locale.ROOT, " %8d", result.errors()));
        if (p99BoundNanos != NO_BOUND && result.p99Above(p99BoundNanos)) {
            line.append("  p99 over the bound");
        }
        if (result.pending() > 0) {
            line.append(String.format(Locale.ROOT, "  (%d operations of this level unfinished or unsent at this line, not counted)",
                    result.pending()));
        }
        return line.toString();
    }

    /** The index of the first level whose p99 is above {@code boundNanos}, or -1. */
    public static int firstAboveBound(List<LevelResult> results, long boundNanos) {
        for (int i = 0; i < results.size(); i++) {
            if (results.get(i).p99Above(boundNanos)) {
                return i;
            }
        }
        return -1;
    }

    /** The closing lines: the best level by throughput and, with a bound, where p99 first passed it. */
    public List<String> summary(List<LevelResult> results) {
        List<String> lines = new ArrayList<>();
        if (results.isEmpty()) {
            lines.add("ramp: no level completed");
            return lines;
        }
        LevelResult best = results.get(0);
        for (LevelResult result : results) {
            if (result.opsPerSecond() > best.opsPerSecond()) {
                best = result;
            }
        }
        lines.add(String.format(Locale.ROOT, "ramp: highest throughput %.0f ops/s at %d %s (p99 %s ms)", best.opsPerSecond(), best.level(),
                levelName(), millis(best.operations(), best.p99Nanos())));
        if (p99BoundNanos != NO_BOUND) {
            int first = firstAboveBound(results, p99BoundNanos);
            String bound = formatDuration(p99BoundNanos);
            if (first < 0) {
                LevelResult last = results.get(results.size() - 1);
                lines.add(String.format(Locale.ROOT, "ramp: p99 stayed within %s at every level, up to %d %s (p99 %s ms, %.0f ops/s)",
                        bound, last.level(), levelName(), millis(last.operations(), last.p99Nanos()), last.opsPerSecond()));
            } else {
                LevelResult over = results.get(first);
                String before = first == 0 ? "at the first level"
                        : String.format(Locale.ROOT, "the level before, %d %s, served %.0f ops/s with p99 %s ms", results.get(first - 1).level(),
                                levelName(), results.get(first - 1).opsPerSecond(),
                                millis(results.get(first - 1).operations(), results.get(first - 1).p99Nanos()));
                lines.add(String.format(Locale.ROOT, "ramp: p99 first passed %s at %d %s (p99 %s, %.0f ops/s); %s",
                        bound, over.level(), levelName(), over.operations() == 0 ? "-: no operation of the level succeeded" : millis(1, over.p99Nanos()) + " ms",
                        over.opsPerSecond(), before));
            }
        }
        return lines;
    }

    /** Milliseconds with two decimals, or "-" when nothing was measured. */
    static String millis(long count, long nanos) {
        return count == 0 ? "-" : String.format(Locale.ROOT, "%.2f", nanos / 1e6);
    }

    static String formatDuration(long nanos) {
        if (nanos % TimeUnit.SECONDS.toNanos(1) == 0) {
            return TimeUnit.NANOSECONDS.toSeconds(nanos) + " s";
        }
        return String.format(Locale.ROOT, "%s ms", nanos % TimeUnit.MILLISECONDS.toNanos(1) == 0
                ? Long.toString(TimeUnit.NANOSECONDS.toMillis(nanos)) : String.format(Locale.ROOT, "%.3f", nanos / 1e6));
    }
}
