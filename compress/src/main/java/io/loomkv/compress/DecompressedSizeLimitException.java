package io.loomkv.compress;

/**
 * The input declares (LZ4) or produces (Zstd) more decompressed bytes than the caller's limit.
 *
 * <p>A subclass of {@link CorruptDataException} so that one {@code catch} covers every way
 * untrusted compressed input can be rejected; catch this type first to tell "too big for this
 * context" apart from "damaged". For LZ4 it is thrown before any output buffer is allocated.
 */
public final class DecompressedSizeLimitException extends CorruptDataException {

    private static final long serialVersionUID = 1L;

    private final long limitBytes;

    public DecompressedSizeLimitException(String message, long limitBytes) {
        super(message);
        this.limitBytes = limitBytes;
    }

    /** The caller-given maximum decompressed size that was exceeded. */
    public long limitBytes() {
        return limitBytes;
    }
}
