package io.loomkv.engine.rocksdb;

import io.loomkv.core.engine.EngineSnapshot;
import io.loomkv.core.engine.KeyValue;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Consumer;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Snapshot;

/**
 * A RocksDB snapshot (a sequence number the engine will not compact away) of one data family.
 * Closing it releases the snapshot, its iterators and its reference to the family, in that order.
 */
final class RocksDbSnapshot implements EngineSnapshot {
    private final RocksDB db;
    private final DataFamily family;
    private final Snapshot snapshot;
    private final ReadOptions readOptions;
    private final Consumer<RocksDbSnapshot> onClose;
    private final List<RocksIterator> iterators = new ArrayList<>();
    private boolean closed;

    /** Takes over {@code family}'s reference, which the caller acquired. */
    RocksDbSnapshot(RocksDB db, DataFamily family, Consumer<RocksDbSnapshot> onClose) {
        this.db = db;
        this.family = family;
        this.snapshot = db.getSnapshot();
        this.readOptions = new ReadOptions().setSnapshot(snapshot).setFillCache(false);
        this.onClose = onClose;
    }

    @Override
    public synchronized Iterator<KeyValue> iterator() {
        if (closed) {
            throw new IllegalStateException("the snapshot is closed");
        }
        RocksIterator cursor = db.newIterator(family.handle(), readOptions);
        iterators.add(cursor);
        cursor.seekToFirst();
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                checkOpen();
                if (cursor.isValid()) {
                    return true;
                }
                try {
                    cursor.status();
                } catch (RocksDBException e) {
                    throw RocksDbKvEngine.failure("iterate a snapshot", e);
                }
                return false;
            }

            @Override
            public KeyValue next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                KeyValue entry = new KeyValue(cursor.key(), cursor.value());
                cursor.next();
                return entry;
            }
        };
    }

    private synchronized void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the snapshot is closed");
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (RocksIterator iterator : iterators) {
            iterator.close();
        }
        iterators.clear();
        readOptions.close();
        db.releaseSnapshot(snapshot);
        family.release();
        onClose.accept(this);
    }
}
