package io.loomkv.compress;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Wraps the compressed source of a Zstd stream to tell the source's own I/O errors apart from
 * Zstd decoding errors (both arrive as {@link IOException} from zstd-jni), and to count the
 * compressed bytes seen.
 */
final class SourceTrackingInputStream extends FilterInputStream {

    private boolean failed;
    private long bytesRead;

    SourceTrackingInputStream(InputStream source) {
        super(source);
    }

    @Override
    public int read() throws IOException {
        try {
            int b = super.read();
            if (b >= 0) {
                bytesRead++;
            }
            return b;
        } catch (IOException e) {
            failed = true;
            throw e;
        }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        try {
            int n = in.read(b, off, len);
            if (n > 0) {
                bytesRead += n;
            }
            return n;
        } catch (IOException e) {
            failed = true;
            throw e;
        }
    }

    @Override
    public long skip(long n) throws IOException {
        throw new IOException("skip is not used on a compressed source");
    }

    boolean failed() {
        return failed;
    }

    long bytesRead() {
        return bytesRead;
    }
}
