package io.loomkv.engine.rocksdb;

import java.util.ArrayDeque;
import java.util.Deque;
import org.rocksdb.AbstractNativeReference;

/**
 * The RocksDB objects an engine owns besides the database and its handles (cache, filter, options),
 * closed in the reverse order of their creation, since each may point to the ones made before it.
 */
final class NativeResources implements AutoCloseable {
    private final Deque<AbstractNativeReference> owned = new ArrayDeque<>();

    <T extends AbstractNativeReference> T add(T resource) {
        owned.push(resource);
        return resource;
    }

    @Override
    public void close() {
        while (!owned.isEmpty()) {
            owned.pop().close();
        }
    }
}
