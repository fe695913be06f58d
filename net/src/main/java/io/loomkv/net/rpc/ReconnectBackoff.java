package io.loomkv.net.rpc;

import java.time.Duration;

/**
 * Exponential backoff with jitter for reconnect attempts: after {@code n} consecutive failures
 * the wait is drawn uniformly from {@code [base/2, base]} with
 * {@code base = min(max, initial * 2^(n-1))}. The jitter keeps many clients that lost the same
 * server from reconnecting in lockstep.
 */
record ReconnectBackoff(Duration initial, Duration max) {
    ReconnectBackoff {
        if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("bad backoff bounds: initial=" + initial + " max=" + max);
        }
    }

    /**
     * @param consecutiveFailures at least 1
     * @param random01 a uniform draw from [0, 1)
     */
    long delayNanos(int consecutiveFailures, double random01) {
        if (consecutiveFailures < 1) {
            throw new IllegalArgumentException("consecutiveFailures must be >= 1, got " + consecutiveFailures);
        }
        if (random01 < 0 || random01 >= 1) {
            throw new IllegalArgumentException("random01 not in [0, 1): " + random01);
        }
        long maxNanos = max.toNanos();
        int shift = Math.min(consecutiveFailures - 1, 62);
        long initialNanos = initial.toNanos();
        long base = initialNanos > (maxNanos >> shift) ? maxNanos : Math.min(maxNanos, initialNanos << shift);
        long half = base / 2;
        return half + (long) (random01 * (base - half));
    }
}
