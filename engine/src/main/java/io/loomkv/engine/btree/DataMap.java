package io.loomkv.engine.btree;

import io.loomkv.engine.Users;
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
    private final Users users;

    DataMap(MVMap<byte[], byte[]> map, long generation) {
        this.map = map;
        this.generation = generation;
        this.users = new Users("data map generation " + generation, () -> { });
    }

    MVMap<byte[], byte[]> map() {
        return map;
    }

    long generation() {
        return generation;
    }

    /** Takes a reference; false when the map was retired and released meanwhile (then read the new one). */
    boolean acquire() {
        return users.acquire();
    }

    void release() {
        users.release();
    }

    /** Gives up the engine's reference; {@code remove} runs once no reader holds the map. */
    void retire(Runnable remove) {
        users.retire(remove);
    }

    static String name(long generation) {
        return "data." + generation;
    }
}
