package io.loomkv.engine.btree;

import java.util.concurrent.atomic.AtomicInteger;
import org.h2.mvstore.MVMap;

/**
 * The map that holds the user keys, with a count of its users. A restore fills a new map and
 * retires the old one; readers and snapshots still on the old one keep it open, and the last of
 * them hands it to {@code onUnused}, which removes it from the store. So no reader ever touches a
 * removed map.
 */
final class DataMap {
    private final MVMap<byte[], byte[]> map;
    private final long generation;
    /** The engine's own reference counts as one while the map is current. */
    private final AtomicInteger users = new AtomicInteger(1);
    private volatile Runnable onUnused = () -> { };

    DataMap(MVMap<byte[], byte[]> map, long generation) {
        this.map = map;
        this.generation = generation;
    }

    MVMap<byte[], byte[]> map() {
        return map;
    }

    long generation() {
        return generation;
    }

    boolean acquire() {
        while (true) {
            int count = users.get();
            if (count == 0) {
                return false;
            }
            if (users.compareAndSet(count, count + 1)) {
                return true;
            }
        }
    }

    void release() {
        int left = users.decrementAndGet();
        if (left < 0) {
            throw new IllegalStateException("data map generation " + generation + " released more often than acquired");
        }
        if (left == 0) {
            onUnused.run();
        }
    }

    /** Gives up the engine's reference; {@code remove} runs once no reader holds the map. */
    void retire(Runnable remove) {
        onUnused = remove;
        release();
    }

    static String name(long generation) {
        return "data." + generation;
    }
}
