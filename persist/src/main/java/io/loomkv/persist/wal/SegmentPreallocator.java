package io.loomkv.persist.wal;

import io.loomkv.persist.io.DurableFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Prepares the next segment file in the background, as etcd's file pipeline does: a
 * {@code *.tmp} file written full of zeros and fsynced, so that cutting a segment is a rename
 * rather than a 64 MiB write in the middle of the commit path, and so that later fdatasync calls
 * never have to allocate blocks.
 */
final class SegmentPreallocator implements AutoCloseable {
    private final Path tmpPath;
    private final long segmentSizeBytes;
    private final ExecutorService executor;
    private CompletableFuture<Path> next;

    SegmentPreallocator(Path directory, long segmentSizeBytes) {
        this.tmpPath = directory.resolve("preallocated.wal.tmp");
        this.segmentSizeBytes = segmentSizeBytes;
        this.executor = Executors.newSingleThreadExecutor(runnable -> {
            Thread thread = new Thread(runnable, "wal-preallocator");
            thread.setDaemon(true);
            return thread;
        });
    }

    /** Starts preparing the next file unless one is already on its way. */
    void prepareNext() {
        if (next == null) {
            next = CompletableFuture.supplyAsync(this::preallocate, executor);
        }
    }

    /** The prepared file (waiting for it if needed); the caller renames it. */
    Path take() throws IOException {
        prepareNext();
        try {
            return next.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() instanceof UncheckedIOException unchecked ? unchecked.getCause() : e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            throw new IOException("preallocating " + tmpPath + " failed", cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for a preallocated segment", e);
        } finally {
            next = null;
        }
    }

    private Path preallocate() {
        try {
            Files.deleteIfExists(tmpPath);
            try (FileChannel channel = FileChannel.open(tmpPath, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                DurableFiles.writeZeros(channel, 0, segmentSizeBytes);
                channel.force(true);
            }
            return tmpPath;
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmpPath);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new UncheckedIOException("preallocating " + tmpPath + " (" + segmentSizeBytes + " bytes) failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
        try {
            // Wait, so that no half-written file appears after the owner believes the WAL closed.
            if (!executor.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS)) {
                throw new IllegalStateException("preallocator thread did not stop within 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
