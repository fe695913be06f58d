package io.loomkv.engine.btree;

import io.loomkv.core.engine.EngineSnapshot;
import io.loomkv.core.engine.KeyValue;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.function.Consumer;
import org.h2.mvstore.Cursor;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.RootReference;

/**
 * A root of the copy-on-write B+tree, taken between two commits, plus a registered version usage,
 * which keeps MVStore from freeing the chunks that root's pages live in. Closing it deregisters the
 * usage and releases the map.
 */
final class MvStoreSnapshot implements EngineSnapshot {
    private final MVStore store;
    private final DataMap data;
    private final RootReference<byte[], byte[]> root;
    private final MVStore.TxCounter versionUsage;
    private final Consumer<MvStoreSnapshot> onClose;
    private volatile boolean closed;

    /** Takes over {@code data}'s reference, which the caller acquired. */
    MvStoreSnapshot(MVStore store, DataMap data, RootReference<byte[], byte[]> root, Consumer<MvStoreSnapshot> onClose) {
        this.store = store;
        this.data = data;
        this.versionUsage = store.registerVersionUsage();
        this.root = root;
        this.onClose = onClose;
    }

    @Override
    public Iterator<KeyValue> iterator() {
        checkOpen();
        Cursor<byte[], byte[]> cursor = new Cursor<>(root, null, null);
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                checkOpen();
                return cursor.hasNext();
            }

            @Override
            public KeyValue next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                byte[] key = cursor.next();
                return new KeyValue(key, cursor.getValue());
            }
        };
    }

    private void checkOpen() {
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
        store.deregisterVersionUsage(versionUsage);
        data.release();
        onClose.accept(this);
    }
}
