package io.loomkv.engine.rocksdb;

import io.loomkv.engine.Users;
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
    private final Users users;

    DataFamily(ColumnFamilyHandle handle, long generation) {
        this.handle = handle;
        this.generation = generation;
        this.users = new Users("column family generation " + generation, handle::close);
    }

    ColumnFamilyHandle handle() {
        return handle;
    }

    long generation() {
        return generation;
    }

    /** Takes a reference; false when the family was retired and released meanwhile (then read the new one). */
    boolean acquire() {
        return users.acquire();
    }

    /** Lets go of a reference; the last one closes the handle, which lets RocksDB delete the family's files. */
    void release() {
        users.release();
    }

    /** Drops the family from the database and gives up the engine's reference. */
    void retire(RocksDB db) throws RocksDBException {
        db.dropColumnFamily(handle);
        users.retire(handle::close);
    }

    /** Names are {@code data.<generation>}; the metadata says which generation is current. */
    static String name(long generation) {
        return "data." + generation;
    }
}
