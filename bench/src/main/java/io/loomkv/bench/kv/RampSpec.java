package io.loomkv.bench.kv;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code --ramp START:STEP:EVERY[:MAX]}: the load starts at level {@code START} (clients, or
 * ops/s in an open loop), rises by {@code STEP} every {@code EVERY}, up to {@code MAX} (the last
 * level is the highest {@code START + n * STEP} not above it) or, without a maximum, until the
 * run's duration ends.
 *
 * @param startLevel the first level, at least 1
 * @param stepLevel the rise per level, at least 1
 * @param everyNanos how long each level is held
 * @param maxLevel the highest level allowed, or {@link #NO_MAX}
 */
public record RampSpec(long startLevel, long stepLevel, long everyNanos, long maxLevel) {
    public static final long NO_MAX = 0;
    /**
     * The first second of every level is run but not measured (see {@link RampSchedule}); a level
     * must measure at least as long as it discards.
     */
    public static final long SETTLE_NANOS = TimeUnit.SECONDS.toNanos(1);
    public static final long MIN_EVERY_NANOS = 2 * SETTLE_NANOS;

    private static final Pattern SHAPE = Pattern.compile("(-?\\d{1,10}):(-?\\d{1,10}):([0-9a-zA-Z]+)(?::(-?\\d{1,10}))?");

    public RampSpec {
        check(startLevel >= 1, "--ramp START must be at least 1, got " + startLevel);
        check(stepLevel >= 1, "--ramp STEP must be at least 1, got " + stepLevel);
        check(everyNanos >= MIN_EVERY_NANOS, "--ramp EVERY must be at least " + TimeUnit.NANOSECONDS.toSeconds(MIN_EVERY_NANOS)
                + "s (each level discards its first " + TimeUnit.NANOSECONDS.toSeconds(SETTLE_NANOS) + "s), got "
                + TimeUnit.NANOSECONDS.toMillis(everyNanos) + "ms");
        check(maxLevel == NO_MAX || maxLevel >= startLevel,
                "--ramp MAX must be at least START (" + startLevel + "), got " + maxLevel);
    }

    private static void check(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }

    /** Parses {@code START:STEP:EVERY[:MAX]}, e.g. {@code 64:64:10s:512}; EVERY as in {@code --duration}. */
    public static RampSpec parse(String text) {
        Matcher matcher = SHAPE.matcher(text.trim());
        if (!matcher.matches()) {
            throw new IllegalArgumentException("--ramp must look like START:STEP:EVERY[:MAX], e.g. 64:64:10s:512, got '" + text + "'");
        }
        long every = KvBenchSettings.parseDurationNanos("--ramp EVERY", matcher.group(3));
        long max = matcher.group(4) == null ? NO_MAX : Long.parseLong(matcher.group(4));
        if (matcher.group(4) != null && max < 1) {
            throw new IllegalArgumentException("--ramp MAX must be at least START (" + matcher.group(1) + "), got " + max);
        }
        return new RampSpec(Long.parseLong(matcher.group(1)), Long.parseLong(matcher.group(2)), every, max);
    }

    public boolean hasMax() {
        return maxLevel != NO_MAX;
    }

    /**
     * The levels of a run: up to {@code MAX}, and no more than fit in {@code durationNanos} (pass
     * {@code Long.MAX_VALUE} when only {@code MAX} limits the run). At least one level, or
     * IllegalArgumentException.
     */
    public List<Long> levels(long durationNanos, long levelLimit) {
        long byDuration = durationNanos / everyNanos;
        long byMax = hasMax() ? (maxLevel - startLevel) / stepLevel + 1 : Long.MAX_VALUE;
        long count = Math.min(byDuration, byMax);
        check(count >= 1, "--duration (" + TimeUnit.NANOSECONDS.toMillis(durationNanos) + "ms) is shorter than one --ramp level ("
                + TimeUnit.NANOSECONDS.toMillis(everyNanos) + "ms)");
        check(count <= KvBenchSettings.MAX_DURATION_NANOS / everyNanos, "--ramp would run " + count + " levels of "
                + TimeUnit.NANOSECONDS.toMillis(everyNanos) + "ms, longer than the limit of 1h");
        List<Long> levels = new ArrayList<>();
        for (long i = 0; i < count; i++) {
            long level = startLevel + i * stepLevel;
            check(level <= levelLimit, "--ramp would reach level " + level + ", above the limit of " + levelLimit);
            levels.add(level);
        }
        return List.copyOf(levels);
    }
}
