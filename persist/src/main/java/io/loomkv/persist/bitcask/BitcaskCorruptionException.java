package io.loomkv.persist.bitcask;

import java.io.IOException;
import java.nio.file.Path;

/** A data file is damaged in a way a crash cannot explain: the store refuses to open (or to read the value) and names the place. */
public final class BitcaskCorruptionException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final long offsetBytes;

    public BitcaskCorruptionException(Path file, long offsetBytes, String reason) {
        super("BitCask data corrupt: " + file + " at offset " + offsetBytes + ": " + reason);
        this.file = file;
        this.offsetBytes = offsetBytes;
    }

    public Path file() {
        return file;
    }

    public long offsetBytes() {
        return offsetBytes;
    }
}
