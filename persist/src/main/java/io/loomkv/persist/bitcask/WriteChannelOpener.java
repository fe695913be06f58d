package io.loomkv.persist.bitcask;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Opens the channel the writer appends a data file through; a seam so that tests can make writes or force() fail. */
@FunctionalInterface
public interface WriteChannelOpener {
    WriteChannelOpener DEFAULT = path -> FileChannel.open(path, StandardOpenOption.WRITE, StandardOpenOption.CREATE);

    FileChannel open(Path path) throws IOException;
}
