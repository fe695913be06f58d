package io.loomkv.persist.snap;

import java.io.IOException;
import java.io.OutputStream;

/** Streams a state machine's contents into a snapshot (the stream compresses as it goes). */
@FunctionalInterface
public interface SnapshotDataWriter {
    void writeTo(OutputStream out) throws IOException;
}
