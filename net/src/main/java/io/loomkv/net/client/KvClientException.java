package io.loomkv.net.client;

import io.loomkv.core.kv.proto.Status;

/**
 * An operation did not succeed. {@link #outcomeUnknown()} is true when a write may or may not
 * have been applied (its deadline passed without a definite answer); otherwise nothing changed.
 */
public final class KvClientException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final Status status;
    private final boolean outcomeUnknown;

    public KvClientException(Status status, String message, boolean outcomeUnknown) {
        super(status + ": " + message + (outcomeUnknown ? " (outcome unknown: the write may or may not be applied)" : ""));
        this.status = status;
        this.outcomeUnknown = outcomeUnknown;
    }

    public Status status() {
        return status;
    }

    public boolean outcomeUnknown() {
        return outcomeUnknown;
    }
}
