package io.loomkv.persist.wal;

import java.io.IOException;
import java.nio.file.Path;

/** The WAL on disk is damaged in a way that recovery must not paper over: startup stops here. */
public final class WalCorruptionException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final long offsetBytes;

    public WalCorruptionException(Path file, long offsetBytes, String reason) {
        super("WAL corrupt: " + file + " at offset " + offsetBytes + ": " + reason);
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
