package io.loomkv.persist.bitcask;

/**
 * A write or force() of a data file failed, and the store refuses every further write. A failed
 * fsync is never retried (the kernel may already have dropped the dirty pages, so a retry could
 * report success for data that is gone); reopen the store to recover from what is on disk.
 */
public final class BitcaskFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BitcaskFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
