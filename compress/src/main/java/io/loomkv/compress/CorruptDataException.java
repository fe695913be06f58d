package io.loomkv.compress;

/**
 * Compressed input could not be decoded: it is corrupt, truncated, carries a garbage header,
 * fails its checksum, or declares more decompressed data than the caller allowed.
 *
 * <p>Unchecked on purpose: callers cannot repair such input, they can only reject it (close the
 * connection, mark the snapshot broken). The message says what was wrong, with the values seen.
 * Decoding never leaves partial output that looks valid: the exception replaces the result.
 */
public class CorruptDataException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public CorruptDataException(String message) {
        super(message);
    }

    public CorruptDataException(String message, Throwable cause) {
        super(message, cause);
    }
}
