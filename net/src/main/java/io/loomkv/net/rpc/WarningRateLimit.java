package io.loomkv.net.rpc;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * At most {@code maxPerWindow} WARN lines per window for one kind of event, and a count of the
 * rest: a flood of junk connections (3,000 to a store's ports once wrote about 1,000 WARN lines
 * per store) must not flood the log. The first line after a window with suppressed lines says
 * how many were left out; every event is counted ({@link #events()}, {@link #suppressed()}) for
 * metrics. Synchronized: it is on the path of bad connections only, never of requests.
 */
public final class WarningRateLimit {
    private final int maxPerWindow;
    private final long windowNanos;
    private final LongSupplier nanoClock;
    private long windowStartNanos;
    private int loggedInWindow;
    private long suppressedSinceLogged;
    private long events;
    private long suppressed;
    private boolean started;

    public WarningRateLimit(int maxPerWindow, Duration window) {
        this(maxPerWindow, window, System::nanoTime);
    }

    /** With the clock given, for tests. */
    WarningRateLimit(int maxPerWindow, Duration window, LongSupplier nanoClock) {
        if (maxPerWindow < 1 || window.toNanos() < 1) {
            throw new IllegalArgumentException("need at least 1 line per window and a positive window, got " + maxPerWindow
                    + " per " + window);
        }
        this.maxPerWindow = maxPerWindow;
        this.windowNanos = window.toNanos();
        this.nanoClock = nanoClock;
    }

    /**
     * Records one event. Returns -1 when its WARN line must be left out (log it at DEBUG);
     * otherwise the number of lines left out since the last one logged, for the line to mention.
     */
    public synchronized long admit() {
        long now = nanoClock.getAsLong();
        events++;
        if (!started || now - windowStartNanos >= windowNanos) {
            started = true;
            windowStartNanos = now;
            loggedInWindow = 0;
        }
        if (loggedInWindow >= maxPerWindow) {
            suppressed++;
            suppressedSinceLogged++;
            return -1;
        }
        loggedInWindow++;
        long leftOut = suppressedSinceLogged;
        suppressedSinceLogged = 0;
        return leftOut;
    }

    /** " (N similar lines left out)" when {@code leftOut} > 0, else empty: the suffix of a logged line. */
    public static String suffix(long leftOut) {
        return leftOut > 0 ? " (" + leftOut + " similar warnings left out before this one)" : "";
    }

    /** Every event admitted or not. */
    public synchronized long events() {
        return events;
    }

    /** Events whose WARN line was left out. */
    public synchronized long suppressed() {
        return suppressed;
    }
}
