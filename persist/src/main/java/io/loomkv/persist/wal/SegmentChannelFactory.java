package io.loomkv.persist.wal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Opens segment files for writing; a seam so that tests can inject I/O failures (a failing force, a full disk). */
@FunctionalInterface
interface SegmentChannelFactory {
    SegmentChannelFactory DEFAULT = path -> FileChannel.open(path, StandardOpenOption.WRITE);

    FileChannel open(Path path) throws IOException;
}
