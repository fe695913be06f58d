package io.loomkv.tools.backup;

import java.io.IOException;
import java.nio.file.Path;

/** A backup file that is not whole and intact: wrong magic, cut short, a failed checksum, lengths that do not add up. */
public final class BackupDamagedException extends IOException {
    public BackupDamagedException(Path file, String what) {
        super("backup " + file + " is damaged: " + what);
    }
}
