package io.loomkv.net.frame;

import java.net.SocketTimeoutException;

/** No frame started within the idle timeout: a routine close, unlike a stalled partial frame. */
public final class IdleTimeoutException extends SocketTimeoutException {
    private static final long serialVersionUID = 1L;

    public IdleTimeoutException(String message) {
        super(message);
    }
}
