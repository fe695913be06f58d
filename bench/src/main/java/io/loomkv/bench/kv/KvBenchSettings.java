package io.loomkv.bench.kv;

import io.loomkv.core.kv.proto.ReadConsistency;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The validated settings of one bench run: the workload's defaults with the explicit flags
 * applied, every value within its bound.
 *
 * @param rateOpsPerSecond 0 for a closed loop
 * @param preload whether to write every key once before the run
 * @param preloadBatchKeys keys per preload request: 1 writes each with a put, more use multi-puts
 * @param hgrmFile where to write the percentile distribution, or null
 * @param plotFile where to write the SVG plot, or null
 * @param ramp the ramp, or null for one level; with a closed-loop ramp {@code clients} is its
 *     highest level and {@code durationNanos} the ramp's length
 * @param mgetKeys 0: a read gets one key; N: a read is a multi-get of N keys (the client splits it
 *     per group and reads the groups in parallel)
 */
public record KvBenchSettings(Workload workload, OperationMix mix, KeyDistribution distribution, int clients,
        double rateOpsPerSecond, long keys, int valueSizeBytes, ReadConsistency consistency, long warmupNanos,
        long durationNanos, boolean preload, int preloadBatchKeys, String cluster, long seed, Path hgrmFile, Path plotFile, boolean json,
        RampSettings ramp, int mgetKeys) {

    public static final int MAX_CLIENTS = 4096;
    public static final double MAX_RATE_OPS_PER_SECOND = 2_000_000;
    public static final long MAX_KEYS = 50_000_000;
    /** The servers' default max-value-bytes (1 MiB). */
    public static final int MAX_VALUE_SIZE_BYTES = 1 << 20;
    public static final long MAX_DURATION_NANOS = TimeUnit.HOURS.toNanos(1);
    public static final long MAX_WARMUP_NANOS = TimeUnit.MINUTES.toNanos(10);
    /** The longest scan (YCSB E's default maximum scan length). */
    public static final int MAX_SCAN_LENGTH = 100;
    /** The servers' default limit of keys in one multi-put. */
    public static final int MAX_PRELOAD_BATCH_KEYS = 1024;
    /**
     * The most keys in one multi-get of {@code --mget-keys}: the servers' default limit per
     * request (one group's share is never more than the whole).
     */
    public static final int MAX_MGET_KEYS = 1024;

    private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(ms|s|m)?");

    public KvBenchSettings {
        check(clients >= 1 && clients <= MAX_CLIENTS, "--clients must be in 1.." + MAX_CLIENTS + ", got " + clients);
        check(rateOpsPerSecond >= 0 && rateOpsPerSecond <= MAX_RATE_OPS_PER_SECOND,
                "--rate must be in 0.." + (long) MAX_RATE_OPS_PER_SECOND + " ops/s (0: closed loop), got " + rateOpsPerSecond);
        check(keys >= 1 && keys <= MAX_KEYS, "--keys must be in 1.." + MAX_KEYS + ", got " + keys);
        check(valueSizeBytes >= 1 && valueSizeBytes <= MAX_VALUE_SIZE_BYTES,
                "--value-size must be in 1.." + MAX_VALUE_SIZE_BYTES + " bytes, got " + valueSizeBytes);
        check(warmupNanos >= 0 && warmupNanos <= MAX_WARMUP_NANOS, "--warmup must be in 0s..10m, got " + warmupNanos + " ns");
        check(durationNanos >= TimeUnit.SECONDS.toNanos(1) && durationNanos <= MAX_DURATION_NANOS,
                "--duration must be in 1s..1h, got " + durationNanos + " ns");
        check(preloadBatchKeys >= 1 && preloadBatchKeys <= MAX_PRELOAD_BATCH_KEYS,
                "--preload-batch must be in 1.." + MAX_PRELOAD_BATCH_KEYS + " keys, got " + preloadBatchKeys);
        check(cluster != null && !cluster.isBlank(), "--cluster must name a config folder or host:port list");
        check(ramp == null || rateOpsPerSecond == 0, "--rate does not go with --ramp: add --open-loop to ramp the target rate");
        check(ramp == null || ramp.openLoop() || clients == ramp.lastLevel(),
                "a closed-loop ramp needs one client per client of its highest level: " + clients + " != " + (ramp == null ? 0 : ramp.lastLevel()));
        check(ramp == null || durationNanos == ramp.durationNanos(), "a ramp's duration is its levels' length");
        check(mgetKeys >= 0 && mgetKeys <= MAX_MGET_KEYS,
                "--mget-keys must be in 0.." + MAX_MGET_KEYS + " keys (0: a read gets one key), got " + mgetKeys);
        check(mgetKeys == 0 || mix.read() > 0, "--mget-keys makes reads multi-gets, but the mix has no reads");
    }

    private static void check(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }

    /** "3s", "500ms", "2m", or a bare number of seconds. */
    public static long parseDurationNanos(String flag, String text) {
        Matcher matcher = DURATION.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!matcher.matches()) {
            throw new IllegalArgumentException(flag + " must look like 500ms, 3s or 2m, got '" + text + "'");
        }
        long amount = Long.parseLong(matcher.group(1));
        String unit = matcher.group(2) == null ? "s" : matcher.group(2);
        return switch (unit) {
            case "ms" -> TimeUnit.MILLISECONDS.toNanos(amount);
            case "m" -> TimeUnit.MINUTES.toNanos(amount);
            default -> TimeUnit.SECONDS.toNanos(amount);
        };
    }

    public static ReadConsistency parseConsistency(String text) {
        return switch (text.toLowerCase(Locale.ROOT)) {
            case "linearizable" -> ReadConsistency.LINEARIZABLE;
            case "lease" -> ReadConsistency.LEASE;
            case "stale" -> ReadConsistency.SERIALIZABLE;
            default -> throw new IllegalArgumentException("--consistency must be linearizable, lease or stale, got '" + text + "'");
        };
    }

    public static Workload parseWorkload(String text) {
        for (Workload workload : Workload.values()) {
            if (workload.name().equalsIgnoreCase(text)) {
                return workload;
            }
        }
        throw new IllegalArgumentException("--workload must be one of A, B, C, D, E, F, seed, got '" + text + "'");
    }

    public static KeyDistribution parseDistribution(String text) {
        return switch (text.toLowerCase(Locale.ROOT)) {
            case "uniform" -> KeyDistribution.UNIFORM;
            case "zipfian" -> KeyDistribution.ZIPFIAN;
            case "latest" -> KeyDistribution.LATEST;
            default -> throw new IllegalArgumentException("--distribution must be uniform, zipfian or latest, got '" + text + "'");
        };
    }
}
