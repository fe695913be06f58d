package io.loomkv.persist.snap;

import java.io.IOException;
import java.nio.file.Path;

/** A snapshot file fails its checks (truncated, wrong checksum, header not matching its name). */
public final class SnapshotCorruptionException extends IOException {
    private static final long serialVersionUID = 1L;

    public SnapshotCorruptionException(Path file, String reason) {
        super("snapshot " + file + " is damaged: " + reason);
    }
}
