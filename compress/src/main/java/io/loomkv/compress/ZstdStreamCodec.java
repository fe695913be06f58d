package io.loomkv.compress;

import com.github.luben.zstd.RecyclingBufferPool;
import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import com.github.luben.zstd.ZstdOutputStreamNoFinalizer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Objects;

/**
 * Zstd streaming compression for snapshots: wrap the file (or socket) stream on the way out and
 * on the way in, so that a snapshot is compressed and decompressed chunk by chunk and never sits
 * in memory twice.
 *
 * <p>Writing: {@link #compressingStream(OutputStream)} returns a {@link ZstdSnapshotOutputStream};
 * write the snapshot through it, then {@link ZstdSnapshotOutputStream#finish()} (ends the Zstd
 * frame and leaves the sink open, e.g. to fsync it) or {@code close()} (also closes the sink).
 * Each stream writes exactly one Zstd frame with Zstd's content checksum (XXH64) enabled, so
 * damage anywhere in the data is detected when the reader reaches the end.
 *
 * <p>Reading: {@link #decompressingStream(InputStream, long)} treats the input as untrusted.
 *
 * <ul>
 *   <li>It never returns more than {@code maxDecompressedBytes}; a stream that would decode to
 *       more throws {@link DecompressedSizeLimitException}.
 *   <li>Zstd decoding errors (bad magic, corrupt blocks, checksum mismatch) and a stream that ends
 *       mid-frame (truncation) throw {@link CorruptDataException}; truncation is never mistaken
 *       for a clean end. An input with no frame at all (zero bytes) is also corrupt.
 *   <li>The decoder's window (its working memory) is capped at 2^{@value #MAX_WINDOW_LOG} bytes,
 *       so a hostile frame header cannot make it allocate more. Levels {@value #MIN_LEVEL}..
 *       {@value #MAX_LEVEL} never need a larger window.
 *   <li>An {@link IOException} thrown by the underlying source itself (a disk or socket error) is
 *       passed through unchanged: it says nothing about the data.
 * </ul>
 *
 * <p>Read to end of stream ({@code -1}): only then has the frame checksum been verified.
 *
 * <p>Instances are immutable and thread-safe; the streams they return are for one thread at a
 * time. The zstd-jni streams use {@code synchronized} internally, which pins a virtual thread
 * while it blocks on the underlying stream on JDK 21-23 (not on JDK 24+).
 */
public final class ZstdStreamCodec {

    /** Zstd's own default: a good speed/ratio balance for snapshots. */
    public static final int DEFAULT_LEVEL = 3;

    public static final int MIN_LEVEL = 1;

    /** Levels above 19 ("ultra") need windows larger than {@link #MAX_WINDOW_LOG} allows. */
    public static final int MAX_LEVEL = 19;

    /** log2 of the largest decoder window accepted: 16 MiB, enough for every level up to 19. */
    public static final int MAX_WINDOW_LOG = 24;

    private final int level;

    /**
     * @param level Zstd compression level, {@value #MIN_LEVEL}..{@value #MAX_LEVEL}
     */
    public ZstdStreamCodec(int level) {
        if (level < MIN_LEVEL || level > MAX_LEVEL) {
            throw new IllegalArgumentException(
                    "Zstd level must be in [" + MIN_LEVEL + ", " + MAX_LEVEL + "], got " + level);
        }
        this.level = level;
    }

    /** A codec at {@link #DEFAULT_LEVEL}. */
    public static ZstdStreamCodec withDefaults() {
        return new ZstdStreamCodec(DEFAULT_LEVEL);
    }

    public int level() {
        return level;
    }

    /**
     * Wraps {@code sink} so that bytes written are Zstd-compressed into it (one frame).
     *
     * @throws IOException if the Zstd context cannot be created
     */
    public ZstdSnapshotOutputStream compressingStream(OutputStream sink) throws IOException {
        Objects.requireNonNull(sink, "sink");
        // Pooled buffers: each stream otherwise allocates ~256 KiB of fresh buffers.
        ZstdOutputStreamNoFinalizer zstd = new ZstdOutputStreamNoFinalizer(sink, RecyclingBufferPool.INSTANCE);
        zstd.setLevel(level);
        zstd.setChecksum(true);
        return new ZstdSnapshotOutputStream(zstd, sink);
    }

    /**
     * Wraps {@code source} (one Zstd stream, as written by {@link #compressingStream}) so that
     * reads return the decompressed bytes, at most {@code maxDecompressedBytes} of them.
     *
     * <p>Closing the returned stream closes {@code source}.
     *
     * @throws IOException if the Zstd context cannot be created
     */
    public InputStream decompressingStream(InputStream source, long maxDecompressedBytes)
            throws IOException {
        Objects.requireNonNull(source, "source");
        if (maxDecompressedBytes < 0) {
            throw new IllegalArgumentException(
                    "maxDecompressedBytes must be >= 0, got " + maxDecompressedBytes);
        }
        SourceTrackingInputStream tracked = new SourceTrackingInputStream(source);
        ZstdInputStreamNoFinalizer zstd = new ZstdInputStreamNoFinalizer(tracked, RecyclingBufferPool.INSTANCE);
        // Not continuous: a source that ends mid-frame is an error ("Truncated source"), not EOF.
        zstd.setContinuous(false);
        zstd.setLongMax(MAX_WINDOW_LOG);
        return new BoundedZstdInputStream(zstd, tracked, maxDecompressedBytes);
    }

    @Override
    public String toString() {
        return "ZstdStreamCodec{level=" + level + "}";
    }
}
