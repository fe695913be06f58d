package io.loomkv.net.rpc;

import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * How a deadline-sweeping thread sleeps between sweeps: one interval while it has something to
 * watch, and an untimed park while it has nothing, until a producer reports new work.
 *
 * <p>Why: a sweeper that wakes every few milliseconds whatever happens made an idle node wake a
 * carrier hundreds of times a second (the peer RPC client sends only one-way messages, so its
 * sweeper never had anything to watch), and on a small VM each wake-up of an idle CPU costs tens
 * of microseconds that the busy processes on the same cores pay for.
 *
 * <p>No lost wake-up: the sweeper publishes itself as parked and then looks for work once more;
 * a producer makes its work visible and then looks for a parked sweeper. Both are volatile, so
 * at least one of the two sees the other.
 */
public final class SweeperSleep {
    private final long intervalNanos;
    private volatile Thread parkedSweeper;

    public SweeperSleep(long intervalNanos) {
        if (intervalNanos <= 0) {
            throw new IllegalArgumentException("intervalNanos must be positive, got " + intervalNanos);
        }
        this.intervalNanos = intervalNanos;
    }

    /** Called by a producer after its new work is visible to the sweeper: wakes the sweeper if it parked idle. */
    public void workAdded() {
        Thread sweeper = parkedSweeper;
        if (sweeper != null) {
            parkedSweeper = null;
            LockSupport.unpark(sweeper);
        }
    }

    /**
     * Called by the sweeper after a sweep. With work to watch it sleeps one interval; without, it
     * parks until {@link #workAdded} (or an interrupt, which is how its owner stops it), unless
     * {@code hasWork}, asked again after the sweeper published itself as parked, finds some.
     */
    public void sleep(boolean hadWork, BooleanSupplier hasWork) {
        if (hadWork) {
            LockSupport.parkNanos(this, intervalNanos);
            return;
        }
        parkedSweeper = Thread.currentThread();
        if (!hasWork.getAsBoolean() && !Thread.currentThread().isInterrupted()) {
            LockSupport.park(this);
        }
        parkedSweeper = null;
    }

    /** True while the sweeper is parked without a timeout (for tests). */
    public boolean isParkedIdle() {
        return parkedSweeper != null;
    }
}
