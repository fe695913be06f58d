package io.loomkv.engine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Bytes on disk under a directory, for engines whose library does not count its own files. */
public final class DirectorySize {
    private DirectorySize() {
    }

    /** Walks that meet a directory removed under them (compaction) start over, at most this often. */
    private static final int MAX_ATTEMPTS = 5;

    /** The sum of the sizes of the regular files under {@code directory}; files that vanish meanwhile count as 0. */
    public static long bytes(Path directory) {
        for (int attempt = 1; ; attempt++) {
            try (Stream<Path> files = Files.walk(directory)) {
                return files.mapToLong(DirectorySize::sizeOrZero).sum();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list " + directory, e);
            } catch (UncheckedIOException e) {
                if (!(e.getCause() instanceof NoSuchFileException) || attempt >= MAX_ATTEMPTS) {
                    throw e;
                }
            }
        }
    }

    private static long sizeOrZero(Path file) {
        try {
            return Files.isRegularFile(file) ? Files.size(file) : 0;
        } catch (NoSuchFileException e) {
            return 0;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the size of " + file, e);
        }
    }
}
