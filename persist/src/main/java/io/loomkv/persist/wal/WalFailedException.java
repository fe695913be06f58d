package io.loomkv.persist.wal;

/**
 * The WAL hit an I/O error while writing or forcing and refuses all further work. A failed
 * fsync is never retried: the kernel may already have dropped the dirty pages, so a retry could
 * report success for data that is gone. The node must stop and recover from disk.
 */
public final class WalFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public WalFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
