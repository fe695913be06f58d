package io.loomkv.bench.kv;

import java.util.List;

/**
 * The timeline of a ramped run: a warm-up at the first level, then every level for
 * {@code everyNanos}. Pure arithmetic on nanosecond timestamps (no clock), so tests can check it.
 *
 * <p>An operation belongs to the level in which it started (closed loop) or was due (open loop,
 * its intended start), even when it finishes in the next one; that keeps a level's latencies
 * the latencies of its load. Operations that start in the first {@code settleNanos} of a level
 * are run but not recorded: right after a step, the added clients open their first requests and
 * the queues of the previous level drain, so that second shows the transition, not the level.
 *
 * <p>Closed loop: the level is the number of active workers; worker {@code i} starts when the
 * first level above {@code i} begins (the first level's workers at the warm-up) and then runs to
 * the end. Open loop: the level is the target rate; operation {@code n} (a ticket shared by all
 * workers) is due at its place in a piecewise-constant schedule: the warm-up at the first level's
 * rate, then each level at its own.
 */
public final class RampSchedule {
    private final long warmupStartNanos;
    private final long firstLevelNanos;
    private final long everyNanos;
    private final long settleNanos;
    private final long[] levels;
    /** Open loop: tickets due before segment s (segment 0 the warm-up, segment k + 1 level k); one more entry at the end. */
    private final long[] ticketsBefore;
    /** Open loop: the start of segment s. */
    private final long[] segmentStartNanos;

    public RampSchedule(long warmupStartNanos, long warmupNanos, List<Long> levels, long everyNanos, long settleNanos) {
        if (levels.isEmpty() || warmupNanos < 0 || everyNanos <= 0 || settleNanos < 0 || settleNanos >= everyNanos) {
            throw new IllegalArgumentException("bad ramp schedule: levels " + levels + ", warm-up " + warmupNanos + " ns, every "
                    + everyNanos + " ns, settle " + settleNanos + " ns");
        }
        this.warmupStartNanos = warmupStartNanos;
        this.firstLevelNanos = warmupStartNanos + warmupNanos;
        this.everyNanos = everyNanos;
        this.settleNanos = settleNanos;
        this.levels = new long[levels.size()];
        for (int i = 0; i < this.levels.length; i++) {
            this.levels[i] = levels.get(i);
            if (this.levels[i] < 1 || (i > 0 && this.levels[i] <= this.levels[i - 1])) {
                throw new IllegalArgumentException("ramp levels must be positive and rising, got " + levels);
            }
        }
        this.ticketsBefore = new long[this.levels.length + 2];
        this.segmentStartNanos = new long[this.levels.length + 2];
        segmentStartNanos[0] = warmupStartNanos;
        for (int segment = 0; segment <= this.levels.length; segment++) {
            long end = firstLevelNanos + (long) segment * everyNanos;
            double rate = this.levels[Math.max(0, segment - 1)];
            long length = end - segmentStartNanos[segment];
            // Tickets j = 0 .. count - 1 are due at start + j / rate, all before the segment's end.
            long count = (long) Math.ceil(length / 1e9 * rate);
            ticketsBefore[segment + 1] = ticketsBefore[segment] + count;
            segmentStartNanos[segment + 1] = end;
        }
    }

    public int levelCount() {
        return levels.length;
    }

    public long level(int index) {
        return levels[index];
    }

    public long firstLevelNanos() {
        return firstLevelNanos;
    }

    public long levelStartNanos(int index) {
        return firstLevelNanos + index * everyNanos;
    }

    public long endNanos() {
        return levelStartNanos(levels.length);
    }

    /** How long each level is measured: its length minus the settle time. */
    public long measuredNanosPerLevel() {
        return everyNanos - settleNanos;
    }

    /** The level running at {@code nanos}: -1 in the warm-up, {@link #levelCount()} after the end. */
    public int levelAt(long nanos) {
        if (nanos < firstLevelNanos) {
            return -1;
        }
        return (int) Math.min(levels.length, (nanos - firstLevelNanos) / everyNanos);
    }

    /** The level whose statistics an operation started (or due) at {@code nanos} goes to, or -1 (warm-up, settling, after the end). */
    public int measuredLevel(long nanos) {
        int level = levelAt(nanos);
        if (level < 0 || level >= levels.length || nanos < levelStartNanos(level) + settleNanos) {
            return -1;
        }
        return level;
    }

    /** Closed loop: when worker {@code index} starts, or {@code Long.MAX_VALUE} if no level needs it. */
    public long activationNanos(int index) {
        for (int level = 0; level < levels.length; level++) {
            if (levels[level] > index) {
                return level == 0 ? warmupStartNanos : levelStartNanos(level);
            }
        }
        return Long.MAX_VALUE;
    }

    /** Open loop: when ticket {@code n} is due, or {@code Long.MAX_VALUE} past the last level. */
    public long intendedStartNanos(long ticket) {
        if (ticket < 0) {
            throw new IllegalArgumentException("negative ticket " + ticket);
        }
        if (ticket >= ticketsBefore[ticketsBefore.length - 1]) {
            return Long.MAX_VALUE;
        }
        // The first entry above the ticket, by binary search (entries repeat where a segment is empty).
        int low = 0;
        int high = ticketsBefore.length - 1;
        while (low < high) {
            int middle = (low + high) >>> 1;
            if (ticketsBefore[middle] > ticket) {
                high = middle;
            } else {
                low = middle + 1;
            }
        }
        int segment = low - 1;
        double rate = levels[Math.max(0, segment - 1)];
        long due = segmentStartNanos[segment] + (long) ((ticket - ticketsBefore[segment]) * 1e9 / rate);
        // Rounding must not push a ticket into the next segment.
        return Math.min(due, segmentStartNanos[segment + 1] - 1);
    }

    /** Open loop: the tickets due before level {@code index} ends (warm-up included). */
    public long ticketsThroughLevel(int index) {
        return ticketsBefore[index + 2];
    }

    /** Open loop: the tickets due during level {@code index}. */
    public long ticketsOfLevel(int index) {
        return ticketsBefore[index + 2] - ticketsBefore[index + 1];
    }
}
