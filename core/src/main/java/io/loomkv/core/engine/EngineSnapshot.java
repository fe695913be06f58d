package io.loomkv.core.engine;

import java.util.Iterator;

/** A point-in-time view of an engine, read in key order; close it when done. */
public interface EngineSnapshot extends AutoCloseable {

    /** Every key and value as of the moment the snapshot was taken, in key order. */
    Iterator<KeyValue> iterator();

    @Override
    void close();
}
