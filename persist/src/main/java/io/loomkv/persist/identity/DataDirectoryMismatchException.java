package io.loomkv.persist.identity;

import java.io.IOException;

/** A data directory belongs to another node or cluster (or its identity file is unreadable): the node must not start on it. */
public final class DataDirectoryMismatchException extends IOException {
    private static final long serialVersionUID = 1L;

    public DataDirectoryMismatchException(String message) {
        super(message);
    }
}
