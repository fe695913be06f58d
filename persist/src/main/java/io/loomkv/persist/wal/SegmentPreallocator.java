package io.loomkv.persist.wal;

import io.loomkv.persist.io.DurableFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Prepares the next segment file in the background, as etcd's file pipeline does: a
 * {@code *.tmp} file written full of zeros and fsynced, so that cutting a segment is a rename
 * rather than a 64 MiB write in the middle of the commit path, and so that later fdatasync calls
 * never have to allocate blocks (on this machine's ext4, 128 B appends did 350-360k records/s
 * into zero-filled segments and 170-260k into sparse ones: each fdatasync then also writes the
 * new block allocations).
 *
 * <p>Two things keep the zero fill off the commit path:
 * <ul>
 *   <li>It is forced in chunks of {@link #FORCE_CHUNK_BYTES}, not once at the end. One force of
 *       64 MiB kept the disk busy for 20-45 ms, and every WAL fdatasync issued meanwhile queued
 *       behind it; a chunk delays one by a few milliseconds at most.</li>
 *   <li>{@link #take} never waits for an unfinished fill. When the WAL fills segments faster than
 *       the fill runs (4 KiB records at 60-80k/s: a segment every ~0.25 s, while the fill, sharing
 *       two cores with the writer, took 150-190 ms plus its force), the writer waited 80-140 ms at
 *       every cut, stalling every append. It now gets a sparse segment made on the spot instead:
 *       it reads as zeros too, so recovery treats it exactly like a filled one; only its
 *       fdatasyncs cost more. The fill in progress serves the cut after.</li>
 * </ul>
 */
final class SegmentPreallocator implements AutoCloseable {
    /** How much zero fill is forced at a time (a few milliseconds of this disk's write bandwidth). */
    static final long FORCE_CHUNK_BYTES = 4L << 20;

    private final Path tmpPath;
    private final Path sparseTmpPath;
    private final long segmentSizeBytes;
    private final Executor executor;
    /** The fill thread this preallocator started, or null when a test gave it an executor. */
    private final ExecutorService ownExecutor;
    /** Read-only source of zeros for the fill, allocated once (a direct buffer is zeroed when allocated). */
    private final ByteBuffer zeros = DurableFiles.zeroBuffer();
    private final AtomicLong sparseSegments = new AtomicLong();
    private CompletableFuture<Path> next;

    SegmentPreallocator(Path directory, long segmentSizeBytes) {
        this(directory, segmentSizeBytes, null);
    }

    /** @param fillExecutor runs the zero fills; null: a thread of its own (tests pass one that holds fills back) */
    SegmentPreallocator(Path directory, long segmentSizeBytes, Executor fillExecutor) {
        this.tmpPath = directory.resolve("preallocated.wal.tmp");
        this.sparseTmpPath = directory.resolve("sparse.wal.tmp");
        this.segmentSizeBytes = segmentSizeBytes;
        this.ownExecutor = fillExecutor != null ? null : Executors.newSingleThreadExecutor(runnable -> {
            Thread thread = new Thread(runnable, "wal-preallocator");
            thread.setDaemon(true);
            return thread;
        });
        this.executor = fillExecutor != null ? fillExecutor : ownExecutor;
    }

    /** Starts preparing the next file unless one is already on its way. */
    void prepareNext() {
        if (next == null) {
            next = CompletableFuture.supplyAsync(this::preallocate, executor);
        }
    }

    /**
     * A file for the next segment, which the caller renames: the zero-filled one if its fill has
     * finished, otherwise a sparse one made now (the fill goes on for the next call). A failed
     * fill is reported, not papered over: it is how a full disk shows up.
     */
    Path take() throws IOException {
        prepareNext();
        if (!next.isDone()) {
            sparseSegments.incrementAndGet();
            return createSparse();
        }
        return takePrepared();
    }

    /** The zero-filled file, waiting for its fill if needed (the first segment of a new WAL). */
    Path takePrepared() throws IOException {
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

    /** How many segments {@link #take} had to create sparse because the fill had not finished. */
    long sparseSegments() {
        return sparseSegments.get();
    }

    private Path createSparse() throws IOException {
        Files.deleteIfExists(sparseTmpPath);
        try (FileChannel channel = FileChannel.open(sparseTmpPath, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            // Writing the last byte sets the size without allocating the blocks before it.
            channel.write(ByteBuffer.allocate(1), segmentSizeBytes - 1);
            channel.force(true);
        } catch (IOException e) {
            deleteQuietly(sparseTmpPath, e);
            throw e;
        }
        return sparseTmpPath;
    }

    private Path preallocate() {
        try {
            Files.deleteIfExists(tmpPath);
            try (FileChannel channel = FileChannel.open(tmpPath, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                long position = 0;
                while (position < segmentSizeBytes) {
                    long chunkEnd = Math.min(segmentSizeBytes, position + FORCE_CHUNK_BYTES);
                    DurableFiles.writeZeros(channel, position, chunkEnd, zeros);
                    position = chunkEnd;
                    if (position < segmentSizeBytes) {
                        channel.force(false);
                    }
                }
                channel.force(true);
            }
            return tmpPath;
        } catch (IOException e) {
            deleteQuietly(tmpPath, e);
            throw new UncheckedIOException("preallocating " + tmpPath + " (" + segmentSizeBytes + " bytes) failed: " + e.getMessage(), e);
        }
    }

    private static void deleteQuietly(Path path, IOException failure) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException suppressed) {
            failure.addSuppressed(suppressed);
        }
    }

    @Override
    public void close() {
        if (ownExecutor == null) {
            return;
        }
        ownExecutor.shutdownNow();
        try {
            // Wait, so that no half-written file appears after the owner believes the WAL closed.
            if (!ownExecutor.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS)) {
                throw new IllegalStateException("preallocator thread did not stop within 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
