package io.loomkv.compress;

import com.github.luben.zstd.ZstdOutputStreamNoFinalizer;
import java.io.IOException;
import java.io.OutputStream;

/**
 * The compressing side of {@link ZstdStreamCodec}: bytes written here leave Zstd-compressed into
 * the sink. The frame is complete only after {@link #finish()} or {@link #close()}; a reader of
 * an unfinished frame gets {@link CorruptDataException} (truncated), never a short snapshot.
 */
public final class ZstdSnapshotOutputStream extends OutputStream {

    private final ZstdOutputStreamNoFinalizer zstd;
    private final OutputStream sink;
    private boolean finished;

    ZstdSnapshotOutputStream(ZstdOutputStreamNoFinalizer zstd, OutputStream sink) {
        this.zstd = zstd;
        this.sink = sink;
    }

    @Override
    public void write(int b) throws IOException {
        ensureOpen();
        zstd.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        ensureOpen();
        zstd.write(b, off, len);
    }

    /** Flushes compressed bytes so far to the sink (the frame stays open). */
    @Override
    public void flush() throws IOException {
        ensureOpen();
        zstd.flush();
    }

    /**
     * Ends the Zstd frame (with its checksum) and flushes the sink, leaving the sink open so the
     * caller can fsync and close it. Idempotent; no writes are allowed afterwards.
     */
    public void finish() throws IOException {
        if (finished) {
            return;
        }
        finished = true;
        zstd.closeWithoutClosingParentStream();
        sink.flush();
    }

    /** {@link #finish()}, then closes the sink. */
    @Override
    public void close() throws IOException {
        try {
            finish();
        } finally {
            sink.close();
        }
    }

    private void ensureOpen() throws IOException {
        if (finished) {
            throw new IOException("Zstd snapshot stream already finished");
        }
    }
}
