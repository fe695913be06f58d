package io.loomkv.engine;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The users of one generation of an engine's data (a RocksDB column family, an MVStore map): the
 * engine counts as one while the generation is current, each reader and snapshot as one more. A
 * restore retires the old generation; the last user to let go frees it, so no reader ever touches
 * freed data, and a reader that comes too late is told to read the new generation.
 */
public final class Users {
    private final String what;
    /** The engine's own reference counts as one while the generation is current. */
    private final AtomicInteger count = new AtomicInteger(1);
    private volatile Runnable free;

    /**
     * @param what names the generation in error messages, e.g. "column family generation 3"
     * @param free what the last user's release does unless {@link #retire} says otherwise
     */
    public Users(String what, Runnable free) {
        this.what = what;
        this.free = free;
    }

    /** Takes a reference; false when the generation was retired and released meanwhile (then read the new one). */
    public boolean acquire() {
        while (true) {
            int users = count.get();
            if (users == 0) {
                return false;
            }
            if (count.compareAndSet(users, users + 1)) {
                return true;
            }
        }
    }

    public void release() {
        int left = count.decrementAndGet();
        if (left < 0) {
            throw new IllegalStateException(what + " released more often than acquired");
        }
        if (left == 0) {
            free.run();
        }
    }

    /** Gives up the engine's reference; {@code free} runs once no user holds the generation. */
    public void retire(Runnable free) {
        this.free = free;
        release();
    }
}
