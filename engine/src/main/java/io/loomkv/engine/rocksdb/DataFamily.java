package io.loomkv.engine.rocksdb;

import java.util.concurrent.atomic.AtomicInteger;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;

/**
 * The column family that holds the user keys, with a count of its users. A restore loads a new
 * family and retires the old one; readers and snapshots still on the old one keep it (RocksDB
 * serves a dropped family through its handle until the handle is closed), and the last of them
 * closes the handle, which lets RocksDB delete its files. So no reader ever touches a closed handle.
 */
final class DataFamily {
    private final ColumnFamilyHandle handle;
    private final long generation;
    /** The engine's own reference counts as one while the family is current. */
    private final AtomicInteger users = new AtomicInteger(1);

    DataFamily(ColumnFamilyHandle handle, long generation) {
        this.handle = handle;
        this.generation = generation;
    }

    ColumnFamilyHandle handle() {
        return handle;
    }

    long generation() {
        return generation;
    }

    /** Takes a reference; false when the family was retired and released meanwhile (then read the new one). */
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
            throw new IllegalStateException("column family generation " + generation + " released more often than acquired");
        }
        if (left == 0) {
            handle.close();
        }
    }

    /** Drops the family from the database and gives up the engine's reference. */
    void retire(RocksDB db) throws RocksDBException {
        db.dropColumnFamily(handle);
        release();
    }

    /** Names are {@code data.<generation>}; the metadata says which generation is current. */
    static String name(long generation) {
        return "data." + generation;
    }
}
