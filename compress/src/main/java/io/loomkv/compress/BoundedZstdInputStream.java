package io.loomkv.compress;

import com.github.luben.zstd.ZstdException;
import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;

/**
 * The decompressing side of {@link ZstdStreamCodec}: enforces the decompressed size limit and
 * turns Zstd errors (corrupt, truncated, no frame) into {@link CorruptDataException}.
 */
final class BoundedZstdInputStream extends InputStream {

    private final ZstdInputStreamNoFinalizer zstd;
    private final SourceTrackingInputStream source;
    private final long maxDecompressedBytes;
    private final byte[] probe = new byte[1];
    private long decompressedBytes;
    private boolean atEnd;

    BoundedZstdInputStream(
            ZstdInputStreamNoFinalizer zstd,
            SourceTrackingInputStream source,
            long maxDecompressedBytes) {
        this.zstd = zstd;
        this.source = source;
        this.maxDecompressedBytes = maxDecompressedBytes;
    }

    @Override
    public int read() throws IOException {
        int n = read(probe, 0, 1);
        return n < 0 ? -1 : probe[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
            return 0;
        }
        if (atEnd) {
            return -1;
        }
        long remaining = maxDecompressedBytes - decompressedBytes;
        if (remaining == 0) {
            // At the limit: the stream is fine only if nothing follows.
            int extra = decode(probe, 0, 1);
            if (extra > 0) {
                throw new DecompressedSizeLimitException(
                        "Zstd stream decompresses to more than the limit of "
                                + maxDecompressedBytes
                                + " bytes",
                        maxDecompressedBytes);
            }
            return endOfStream();
        }
        int n = decode(b, off, (int) Math.min(len, remaining));
        if (n < 0) {
            return endOfStream();
        }
        decompressedBytes += n;
        return n;
    }

    private int decode(byte[] b, int off, int len) throws IOException {
        while (true) {
            int n;
            try {
                n = zstd.read(b, off, len);
            } catch (ZstdException e) {
                throw corrupt(e);
            } catch (IOException e) {
                if (source.failed()) {
                    throw e;
                }
                throw corrupt(e);
            }
            // zstd-jni may return 0 after consuming a block that produced no output; read again.
            // Each such call consumes input, so this ends at the source's end.
            if (n != 0) {
                return n;
            }
        }
    }

    private int endOfStream() {
        if (source.bytesRead() == 0) {
            throw new CorruptDataException("Zstd stream is empty: no frame at all");
        }
        atEnd = true;
        return -1;
    }

    private CorruptDataException corrupt(Exception e) {
        return new CorruptDataException(
                "Zstd stream corrupt or truncated after "
                        + source.bytesRead()
                        + " compressed bytes read and "
                        + decompressedBytes
                        + " bytes decompressed: "
                        + e.getMessage(),
                e);
    }

    @Override
    public void close() throws IOException {
        zstd.close();
    }
}
